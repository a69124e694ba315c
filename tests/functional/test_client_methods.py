"""Clients registered with `idp client create`, one per token endpoint auth
method, signing a person in with the real relying party (code flow, refresh,
userinfo); each refused when it authenticates another way (OIDC Core §9)."""

from __future__ import annotations

from datetime import timedelta

import requests

from idp import clock

from ..client_steps import (
    JwksServer,
    client_credentials,
    create,
    jwks_file,
    jwt_relying_party,
    public_jwk,
    refusal,
    relying_party,
    signing_key,
    web_client,
)
from ..rp import DEMO_REDIRECT, RelyingParty, callback_params
from .helpers import authorize_url, basic_header, code_flow, post


def signs_in(live, rp: RelyingParty) -> None:  # type: ignore[no-untyped-def]
    """The code flow, a refresh and userinfo all work for ``rp``."""
    _, token = code_flow(live, rp)
    rp.verify_id_token(token["id_token"], token["access_token"])
    assert rp.userinfo(token["access_token"]).json()["email"] == "user@demo.example"
    refreshed = rp.refresh(token["refresh_token"])
    assert refreshed["access_token"] != token["access_token"]


def test_client_secret_basic(live):
    client_id, secret = web_client(live, "--auth-method", "client_secret_basic")
    signs_in(live, relying_party(live, client_id, secret, "client_secret_basic"))


def test_client_secret_post(live):
    client_id, secret = web_client(live, "--auth-method", "client_secret_post")
    rp = relying_party(live, client_id, secret, "client_secret_post")
    signs_in(live, rp)
    assert client_credentials(rp)["token_type"] == "Bearer"


def test_private_key_jwt_with_a_jwks_file(live, tmp_path):
    key = signing_key("shop-key-1")
    client_id, _ = web_client(live, "--auth-method", "private_key_jwt", "--jwks", jwks_file(tmp_path, public_jwk(key)))
    rp = jwt_relying_party(live, client_id, key)
    signs_in(live, rp)
    assert client_credentials(rp)["token_type"] == "Bearer"
    stranger = jwt_relying_party(live, client_id, signing_key("shop-key-1"))  # same kid, another key
    assert refusal(lambda: client_credentials(stranger)) == "invalid_client"


def test_none_is_a_public_client_with_pkce(live):
    client_id, secret = create(live, "--public", "--redirect-uri", DEMO_REDIRECT)
    assert secret is None
    signs_in(live, relying_party(live, client_id, None, "none"))
    # RFC 9700 §2.1.1: a public client without PKCE is refused at the authorization endpoint.
    without_pkce = live.browser().login(authorize_url(live, client_id=client_id))
    assert callback_params(without_pkce)["error"] == "invalid_request"


def test_private_key_jwt_with_a_jwks_uri(live):
    first, second = signing_key("k1"), signing_key("k2")
    with JwksServer(public_jwk(first)) as published:
        client_id, _ = web_client(live, "--auth-method", "private_key_jwt", "--jwks-uri", published.url)
        rp = jwt_relying_party(live, client_id, first)
        signs_in(live, rp)
        assert client_credentials(rp)["token_type"] == "Bearer"
        assert published.fetches == 1  # cached between uses

        # The client rotates to a new key: an unknown kid fetches the set again,
        # but not more than once a minute, whoever sends assertions naming it.
        published.keys.append(public_jwk(second))
        rotated = jwt_relying_party(live, client_id, second)
        assert refusal(lambda: client_credentials(rotated)) == "invalid_client"
        assert published.fetches == 1
        clock.advance(timedelta(seconds=61))
        assert client_credentials(rotated)["token_type"] == "Bearer"
        assert published.fetches == 2


def test_a_jwks_uri_that_does_not_answer_is_invalid_client(live):
    with JwksServer() as gone:
        url = gone.url
    client_id, _ = web_client(live, "--auth-method", "private_key_jwt", "--jwks-uri", url)
    rp = jwt_relying_party(live, client_id, signing_key("k1"))
    assert refusal(lambda: client_credentials(rp)) == "invalid_client"


def test_a_jwks_uri_publishing_a_private_key_is_not_used(live):
    key = signing_key("k1")
    with JwksServer(key.as_dict(private=True)) as published:
        client_id, _ = web_client(live, "--auth-method", "private_key_jwt", "--jwks-uri", published.url)
        rp = jwt_relying_party(live, client_id, key)
        assert refusal(lambda: client_credentials(rp)) == "invalid_client"
        assert published.fetches == 1


# -- each client may use only the method it registered -------------------------------

BOGUS_CODE = {"grant_type": "authorization_code", "code": "not-a-code", "redirect_uri": DEMO_REDIRECT}


def token_error(response: requests.Response) -> str:
    return str(response.json()["error"])


def test_the_registered_method_is_enforced(live, tmp_path):
    basic_id, basic_secret = web_client(live, "--auth-method", "client_secret_basic")
    post_id, post_secret = web_client(live, "--auth-method", "client_secret_post")
    public_id, _ = create(live, "--public", "--redirect-uri", DEMO_REDIRECT)
    key = signing_key("k1")
    jwt_id, _ = web_client(live, "--auth-method", "private_key_jwt", "--jwks", jwks_file(tmp_path, public_jwk(key)))

    def as_basic(client_id: str, secret: str) -> str:
        return token_error(post(live, "/token", BOGUS_CODE, headers=basic_header(client_id, secret)))

    def as_post(client_id: str, secret: str) -> str:
        return token_error(post(live, "/token", {**BOGUS_CODE, "client_id": client_id, "client_secret": secret}))

    def as_none(client_id: str) -> str:
        return token_error(post(live, "/token", {**BOGUS_CODE, "client_id": client_id}))

    # The right method gets as far as the code (invalid_grant) ...
    assert as_basic(basic_id, basic_secret) == as_post(post_id, post_secret) == as_none(public_id) == "invalid_grant"
    # ... any other is invalid_client.
    assert as_post(basic_id, basic_secret) == "invalid_client"
    assert as_none(basic_id) == "invalid_client"
    assert as_basic(post_id, post_secret) == "invalid_client"
    assert as_basic(public_id, "anything") == "invalid_client"
    assert as_post(public_id, "anything") == "invalid_client"
    assert as_none(jwt_id) == "invalid_client"
    assert as_basic(jwt_id, "anything") == "invalid_client"
    # A secret client cannot switch to assertions either, even signed by a registered key.
    assert refusal(lambda: client_credentials(jwt_relying_party(live, basic_id, key))) == "invalid_client"
