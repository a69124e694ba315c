"""Machine clients get RFC 9068 access tokens with client credentials.

The well-formed client_secret_basic case is answered by the WSGI fast path
(idp/oidc/fastpath.py) and every other case by authlib's grant; both must
give the same answers.
"""

from __future__ import annotations

import base64

import pytest
import requests

from ..rp import DEMO_CLIENT, DEMO_SECRET


def _token(live, **kwargs):
    return requests.post(live.url + "/token", timeout=10, **kwargs)


def _claims(live, token: str) -> dict:
    return live.rp().verify_access_token(token)


def test_basic_auth_gives_a_verifiable_jwt(live):
    data = {"grant_type": "client_credentials", "scope": "openid email"}
    r = _token(live, data=data, auth=(DEMO_CLIENT, DEMO_SECRET))
    assert r.status_code == 200
    assert r.headers["Cache-Control"] == "no-store" and r.headers["X-Content-Type-Options"] == "nosniff"
    body = r.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == live.settings.access_token_ttl
    assert body["scope"] == "openid email"
    claims = _claims(live, body["access_token"])
    assert claims["client_id"] == DEMO_CLIENT and claims["sub"] == DEMO_CLIENT
    assert claims["aud"] == live.settings.audience and claims["scope"] == "openid email"
    assert "refresh_token" not in body


def test_post_auth_takes_the_full_path_and_agrees(live):
    r = _token(live, data={"grant_type": "client_credentials", "client_id": DEMO_CLIENT, "client_secret": DEMO_SECRET})
    # demo-rp is registered for client_secret_basic: another method is refused.
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_credentials_are_form_urlencoded_before_base64(live):
    """RFC 6749 §2.3.1: strict clients send 'demo%2Drp'."""
    raw = base64.b64encode(b"demo%2Drp:demo%2Drp%2Dsecret").decode()
    r = _token(live, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {raw}"})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    "auth",
    [(DEMO_CLIENT, "wrong-secret"), ("no-such-client", DEMO_SECRET), (DEMO_CLIENT, "")],
    ids=["wrong-secret", "unknown-client", "empty-secret"],
)
def test_bad_credentials_get_invalid_client(live, auth):
    r = _token(live, data={"grant_type": "client_credentials"}, auth=auth)
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    assert r.headers["WWW-Authenticate"].lower().startswith("basic")


def test_duplicate_parameters_are_refused(live):
    r = _token(
        live,
        data="grant_type=client_credentials&grant_type=client_credentials",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        auth=(DEMO_CLIENT, DEMO_SECRET),
    )
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
