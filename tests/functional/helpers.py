"""Small steps shared by the functional tests: raw protocol requests against a
live provider, with nothing hidden behind a client library."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs, quote_plus, urlencode, urlsplit

import requests

from idp import db
from idp.oidc import clients

from ..conftest import Live
from ..rp import DEMO_CLIENT, DEMO_REDIRECT, DEMO_SECRET, Browser, RelyingParty, callback_params

TIMEOUT = 10


def authorize_url(live: Live, **params: str | None) -> str:
    """An authorization request for the demo client; ``None`` drops a parameter."""
    base: dict[str, str | None] = {
        "response_type": "code",
        "client_id": DEMO_CLIENT,
        "redirect_uri": DEMO_REDIRECT,
        "scope": "openid profile email offline_access",
        "state": "st-123",
        "nonce": "n-456",
    }
    merged = {k: v for k, v in {**base, **params}.items() if v is not None}
    return f"{live.url}/authorize?{urlencode(merged)}"


def redirect_target(response: requests.Response) -> str:
    """The redirect's URI without its query."""
    parts = urlsplit(response.headers["Location"])
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def post(live: Live, path: str, data: Any = None, **kwargs: Any) -> requests.Response:
    return requests.post(live.url + path, data=data, allow_redirects=False, timeout=TIMEOUT, **kwargs)


def token_request(
    live: Live, data: dict[str, str], client_id: str = DEMO_CLIENT, secret: str = DEMO_SECRET
) -> requests.Response:
    """A token request with client_secret_basic."""
    return post(live, "/token", data, auth=(client_id, secret))


def signed_in_code(live: Live, browser: Browser | None = None, **params: str | None) -> tuple[str, Browser]:
    """Sign the demo user in (or reuse the browser's session) and return a code."""
    browser = browser or live.browser()
    response = browser.login(authorize_url(live, **params))
    query = callback_params(response)
    assert "code" in query, query
    return query["code"], browser


def code_flow(live: Live, rp: RelyingParty | None = None) -> tuple[RelyingParty, dict[str, Any]]:
    """The full code flow with the real relying party; returns it and its tokens."""
    rp = rp or live.rp()
    callback = callback_params(live.browser().login(rp.authorization_url()))
    return rp, rp.exchange(callback)


def redeem(live: Live, code: str, verifier: str | None = None, **extra: str) -> requests.Response:
    data = {"grant_type": "authorization_code", "code": code, "redirect_uri": DEMO_REDIRECT, **extra}
    if verifier:
        data["code_verifier"] = verifier
    return token_request(live, data)


def refresh(live: Live, token: str, client_id: str = DEMO_CLIENT, secret: str = DEMO_SECRET) -> requests.Response:
    return token_request(live, {"grant_type": "refresh_token", "refresh_token": token}, client_id, secret)


def userinfo(live: Live, access_token: str) -> requests.Response:
    return requests.get(live.url + "/userinfo", headers={"Authorization": f"Bearer {access_token}"}, timeout=TIMEOUT)


def introspect(live: Live, token: str, client_id: str = DEMO_CLIENT, secret: str = DEMO_SECRET) -> dict[str, Any]:
    response = post(live, "/introspect", {"token": token}, auth=(client_id, secret))
    assert response.status_code == 200, response.text
    return response.json()


def register_client(live: Live, **fields: Any) -> str | None:
    """Register a client directly in the provider's database; returns its secret."""
    with live.app.app_context():
        _, secret = clients.register(clients.Registration(**fields))
        db.commit()
    return secret


def public_client(live: Live, client_id: str = "public-app") -> str:
    register_client(live, name="Public app", client_id=client_id, redirect_uris=[DEMO_REDIRECT], public=True)
    return client_id


def confidential_client(live: Live, client_id: str = "other-rp", secret: str = "other-rp-secret", **fields: Any) -> str:
    register_client(live, name="Other RP", client_id=client_id, secret=secret, redirect_uris=[DEMO_REDIRECT], **fields)
    return secret


def basic_header(client_id: str, secret: str) -> dict[str, str]:
    """client_secret_basic as RFC 6749 §2.3.1 has it: each part form-urlencoded, then base64."""
    raw = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(raw).decode()}


def query_of(url: str) -> dict[str, list[str]]:
    return parse_qs(urlsplit(url).query)
