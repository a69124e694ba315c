"""Client authentication at the token endpoint (RFC 6749 §2.3, §5.2; OIDC Core
§9): each client uses the method it registered, and a failure is
``invalid_client`` — 401 with a Basic challenge when it came in a header."""

from __future__ import annotations

import base64
import secrets
import time
from typing import Any

import requests
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from .helpers import TIMEOUT, basic_header, confidential_client, post, register_client, token_request

CC = {"grant_type": "client_credentials"}


def assert_invalid_client(response: requests.Response, status: int = 401) -> None:
    assert response.status_code == status, response.text
    assert response.json()["error"] == "invalid_client"
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Basic ")


def test_client_secret_basic_works(live):
    response = token_request(live, CC)
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "Bearer"


def test_wrong_secret_is_401_with_a_basic_challenge(live):
    assert_invalid_client(token_request(live, CC, secret="wrong-secret"))


def test_unknown_client_is_401(live):
    assert_invalid_client(token_request(live, CC, client_id="nobody", secret="whatever"))


def test_no_client_authentication_is_refused(live):
    response = post(live, "/token", CC)
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


def test_basic_credentials_are_form_urlencoded_before_base64(live):
    # RFC 6749 §2.3.1: "demo-rp" may arrive as "demo%2Drp".
    raw = base64.b64encode(b"demo%2Drp:demo%2Drp%2Dsecret").decode()
    response = post(live, "/token", CC, headers={"Authorization": "Basic " + raw})
    assert response.status_code == 200, response.text


def test_basic_credentials_with_reserved_characters(live):
    client_id, secret = "rp one:two+three%", "s3cr+t/%:x y&z=é"
    register_client(
        live,
        name="Odd names",
        client_id=client_id,
        secret=secret,
        redirect_uris=["http://127.0.0.1:8080/callback"],
        grant_types=["client_credentials"],
    )
    response = post(live, "/token", CC, headers=basic_header(client_id, secret))
    assert response.status_code == 200, response.text
    assert_invalid_client(post(live, "/token", CC, headers=basic_header(client_id, secret + "x")))


def test_client_secret_post(live):
    secret = confidential_client(live, "post-rp", auth_method="client_secret_post", grant_types=["client_credentials"])
    response = post(live, "/token", {**CC, "client_id": "post-rp", "client_secret": secret})
    assert response.status_code == 200, response.text
    wrong = post(live, "/token", {**CC, "client_id": "post-rp", "client_secret": "wrong"})
    assert wrong.status_code in (400, 401) and wrong.json()["error"] == "invalid_client"


def test_a_client_must_use_the_method_it_registered(live):
    secret = confidential_client(live, "post-rp", auth_method="client_secret_post", grant_types=["client_credentials"])
    assert_invalid_client(token_request(live, CC, "post-rp", secret))
    # and the demo client (client_secret_basic) may not switch to the form body
    response = post(live, "/token", {**CC, "client_id": "demo-rp", "client_secret": "demo-rp-secret"})
    assert response.status_code in (400, 401) and response.json()["error"] == "invalid_client"


def test_public_client_cannot_use_client_credentials(live):
    register_client(live, name="Public", client_id="pub", redirect_uris=["http://127.0.0.1:8080/callback"], public=True)
    response = post(live, "/token", {**CC, "client_id": "pub"})
    assert response.status_code in (400, 401)
    assert response.json()["error"] in ("invalid_client", "unauthorized_client")


# -- private_key_jwt (RFC 7523 §3, OIDC Core §9) ---------------------------------


def jwt_client(live) -> ECKey:  # type: ignore[no-untyped-def]
    key = ECKey.generate_key("P-256", parameters={"kid": "rp-key-1", "alg": "ES256", "use": "sig"})
    register_client(
        live,
        name="JWT client",
        client_id="jwt-rp",
        redirect_uris=["http://127.0.0.1:8080/callback"],
        grant_types=["client_credentials"],
        auth_method="private_key_jwt",
        jwks=KeySet([key]).as_dict(private=False),
    )
    return key


def assertion(live, key: ECKey, **overrides: Any) -> str:  # type: ignore[no-untyped-def]
    now = int(time.time())
    claims = {
        "iss": "jwt-rp",
        "sub": "jwt-rp",
        "aud": live.url + "/token",
        "iat": now,
        "exp": now + 60,
        "jti": secrets.token_urlsafe(16),
        **overrides,
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid}, claims, key)


def with_assertion(live, signed: str) -> requests.Response:  # type: ignore[no-untyped-def]
    data = {
        **CC,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": signed,
    }
    return requests.post(live.url + "/token", data=data, timeout=TIMEOUT)


def test_private_key_jwt_works(live):
    key = jwt_client(live)
    response = with_assertion(live, assertion(live, key))
    assert response.status_code == 200, response.text


def test_private_key_jwt_with_the_issuer_as_audience(live):
    key = jwt_client(live)
    assert with_assertion(live, assertion(live, key, aud=live.url)).status_code == 200


def test_replayed_assertion_is_refused(live):
    key = jwt_client(live)
    signed = assertion(live, key)
    assert with_assertion(live, signed).status_code == 200
    assert_invalid_client(with_assertion(live, signed), status=400)


def test_assertion_signed_by_another_key_is_refused(live):
    jwt_client(live)
    stranger = ECKey.generate_key("P-256", parameters={"kid": "rp-key-1"})
    assert_invalid_client(with_assertion(live, assertion(live, stranger)), status=400)


def test_assertion_for_another_audience_is_refused(live):
    key = jwt_client(live)
    assert_invalid_client(with_assertion(live, assertion(live, key, aud="https://elsewhere.example/token")), 400)


def test_expired_assertion_is_refused(live):
    key = jwt_client(live)
    old = int(time.time()) - 3600
    assert_invalid_client(with_assertion(live, assertion(live, key, iat=old, exp=old + 60)), 400)


def test_assertion_with_another_subject_is_refused(live):
    key = jwt_client(live)
    assert_invalid_client(with_assertion(live, assertion(live, key, sub="demo-rp")), 400)


def test_unsigned_assertion_is_refused(live):
    jwt_client(live)
    header = base64.urlsafe_b64encode(b'{"alg":"none"}').rstrip(b"=").decode()
    now = int(time.time())
    body = f'{{"iss":"jwt-rp","sub":"jwt-rp","aud":"{live.url}/token","exp":{now + 60},"jti":"x"}}'
    payload = base64.urlsafe_b64encode(body.encode()).rstrip(b"=").decode()
    assert_invalid_client(with_assertion(live, f"{header}.{payload}."), 400)


def test_secret_client_cannot_authenticate_with_an_assertion(live):
    key = jwt_client(live)
    signed = assertion(live, key, iss="demo-rp", sub="demo-rp")
    assert_invalid_client(with_assertion(live, signed), 400)


def test_assertion_expiring_far_in_the_future_is_refused(live):
    # RFC 7523 §3: "unreasonably far in the future"; its jti would have to be
    # remembered as long.
    key = jwt_client(live)
    for exp in (int(time.time()) + 10 * 24 * 3600, 10**12, 10**20):
        assert_invalid_client(with_assertion(live, assertion(live, key, exp=exp)), 400)


def test_assertion_with_a_non_string_jti_is_refused(live):
    key = jwt_client(live)
    assert_invalid_client(with_assertion(live, assertion(live, key, jti=12345)), 400)
