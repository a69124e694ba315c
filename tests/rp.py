"""A real relying party (authlib's OAuth client) and a scripted browser (requests).

The relying party finds everything through discovery, verifies ID tokens
through the JWKS it fetched (signature, iss, aud, nonce, at_hash, expiry),
and never reads the provider's database.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import requests
from authlib.integrations.requests_client import OAuth2Session
from joserfc import jwt
from joserfc.jwk import KeySet

DEMO_CLIENT = "demo-rp"
DEMO_SECRET = "demo-rp-secret"
DEMO_REDIRECT = "http://127.0.0.1:8080/callback"
DEMO_USER = "user@demo.example"
DEMO_HOLDER = "holder@demo.example"
DEMO_PASSWORD = "Demo-pass-2026"


class FormParser(HTMLParser):
    """The forms of a page: action, method and every input's name and value."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "form":
            self.forms.append(
                {"action": a.get("action") or "", "method": (a.get("method") or "get").lower(), "fields": {}}
            )
        elif tag in ("input", "button") and self.forms and a.get("name"):
            if a.get("type") in ("checkbox", "radio") and "checked" not in a:
                return
            self.forms[-1]["fields"][a["name"]] = a.get("value") or ""


def parse_forms(html: str) -> list[dict[str, Any]]:
    parser = FormParser()
    parser.feed(html)
    return parser.forms


@dataclass
class Browser:
    """A person's browser: keeps cookies, follows redirects on the provider only."""

    base: str
    http: requests.Session = field(default_factory=requests.Session)
    last: requests.Response | None = None

    def get(self, url: str, **kwargs: Any) -> requests.Response:
        return self.follow(self.http.get(urljoin(self.base, url), allow_redirects=False, timeout=10, **kwargs))

    def follow(self, response: requests.Response) -> requests.Response:
        """Follow redirects while they stay on the provider; stop at any other host."""
        while response.is_redirect:
            target = urljoin(response.url, response.headers["Location"])
            if not target.startswith(self.base):
                break
            response = self.http.get(target, allow_redirects=False, timeout=10)
        self.last = response
        return response

    def submit(self, fields: dict[str, str], form_index: int = 0) -> requests.Response:
        """Fill and post a form of the current page, as a person would."""
        assert self.last is not None
        form = parse_forms(self.last.text)[form_index]
        data = {**form["fields"], **fields}
        target = urljoin(self.last.url, form["action"] or self.last.url)
        response = self.http.post(target, data=data, allow_redirects=False, timeout=10)
        return self.follow(response)

    def login(self, authorize_url: str, email: str = DEMO_USER, password: str = DEMO_PASSWORD) -> requests.Response:
        page = self.get(authorize_url)
        if page.is_redirect:
            return page  # an existing session answered at once
        return self.submit({"email": email, "password": password})


def callback_params(response: requests.Response) -> dict[str, str]:
    """Query parameters of the redirect that left the provider for the client."""
    assert response.is_redirect, f"expected a redirect to the client, got {response.status_code}"
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    return {k: v[0] for k, v in query.items()}


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


class RelyingParty:
    def __init__(
        self,
        issuer: str,
        client_id: str = DEMO_CLIENT,
        client_secret: str | None = DEMO_SECRET,
        redirect_uri: str = DEMO_REDIRECT,
        auth_method: str = "client_secret_basic",
        scope: str = "openid profile email offline_access",
    ) -> None:
        self.issuer = issuer
        self.config = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
        self.jwks = KeySet.import_key_set(requests.get(self.config["jwks_uri"], timeout=10).json())
        self.client = OAuth2Session(
            client_id,
            client_secret,
            redirect_uri=redirect_uri,
            scope=scope,
            token_endpoint_auth_method=auth_method,
            code_challenge_method="S256",
        )
        self.client_id = client_id
        self.nonce: str | None = None
        self.verifier: str | None = None
        self.state: str | None = None

    def authorization_url(self, **extra: str) -> str:
        self.nonce = secrets.token_urlsafe(16)
        self.verifier = secrets.token_urlsafe(48)
        url, self.state = self.client.create_authorization_url(
            self.config["authorization_endpoint"], nonce=self.nonce, code_verifier=self.verifier, **extra
        )
        return url

    def exchange(self, callback: dict[str, str]) -> dict[str, Any]:
        """Check the authorization response (state, iss) and redeem the code."""
        assert callback.get("state") == self.state
        assert callback.get("iss") == self.issuer, "RFC 9207 iss missing or wrong"
        token = self.client.fetch_token(
            self.config["token_endpoint"], code=callback["code"], code_verifier=self.verifier
        )
        return dict(token)

    def refresh(self, refresh_token: str) -> dict[str, Any]:
        return dict(self.client.refresh_token(self.config["token_endpoint"], refresh_token=refresh_token))

    def verify_id_token(
        self, id_token: str, access_token: str | None = None, nonce: str | None = "expected"
    ) -> dict[str, Any]:
        """OIDC Core §3.1.3.7: signature by a JWKS key, iss, aud, exp, iat, nonce, at_hash."""
        token = jwt.decode(id_token, self.jwks, algorithms=["RS256", "ES256"])
        claims = token.claims
        assert claims["iss"] == self.issuer
        aud = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        assert self.client_id in aud
        now = time.time()
        assert claims["exp"] > now and claims["iat"] <= now + 5
        if nonce == "expected":
            assert claims.get("nonce") == self.nonce
        if access_token is not None:
            digest = hashlib.sha256(access_token.encode()).digest()[:16]
            assert claims["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        return claims

    def verify_access_token(self, access_token: str) -> dict[str, Any]:
        """RFC 9068 §4: typ at+jwt, signature by a JWKS key, iss, exp."""
        token = jwt.decode(access_token, self.jwks, algorithms=["RS256", "ES256"])
        assert token.header["typ"].lower() in ("at+jwt", "application/at+jwt")
        assert token.claims["iss"] == self.issuer
        assert token.claims["exp"] > time.time()
        return token.claims

    def userinfo(self, access_token: str, method: str = "GET") -> requests.Response:
        headers = {"Authorization": f"Bearer {access_token}"}
        return requests.request(method, self.config["userinfo_endpoint"], headers=headers, timeout=10)


def basic_auth(client_id: str = DEMO_CLIENT, secret: str = DEMO_SECRET) -> tuple[str, str]:
    return (client_id, secret)


def code_from(response: requests.Response) -> str:
    params = callback_params(response)
    assert "code" in params, params
    return params["code"]


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
