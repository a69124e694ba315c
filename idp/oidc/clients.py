"""Registered clients as authlib sees them (ClientMixin), and their registration."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request, list_to_scope, scope_to_list
from flask import current_app
from sqlalchemy import select

from .. import db
from ..hashing import digest, matches, new_token
from ..models import Client
from ..operations.context import note_client

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt", "none")
GRANT_TYPES = ("authorization_code", "refresh_token", "client_credentials")


class OAuthClient(ClientMixin):
    """authlib's view of a stored client. Redirect URIs match exactly (RFC 9700 §4.1.3)."""

    def __init__(self, model: Client) -> None:
        self.model = model
        self.client_id = model.client_id
        self.client_metadata: dict[str, Any] = {}
        if model.id_token_signed_response_alg:
            self.client_metadata["id_token_signed_response_alg"] = model.id_token_signed_response_alg

    @property
    def public(self) -> bool:
        return self.model.public

    @property
    def id_token_signed_response_alg(self) -> str:
        # OIDC Registration §2: RS256 unless the client registered another.
        return self.model.id_token_signed_response_alg or "RS256"

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # never guessed: the request must name one

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return ""
        allowed = set(scope_to_list(self.model.scope))
        return list_to_scope([s for s in scope_to_list(scope) if s in allowed])

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.model.redirect_uris

    def check_post_logout_redirect_uri(self, uri: str) -> bool:
        return uri in self.model.post_logout_redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return matches(client_secret, self.model.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.model.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.model.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "client_credentials" and self.public:
            return False
        return grant_type in self.model.grant_types


CACHE_SECONDS = 5.0


def find(client_id: str | None) -> OAuthClient | None:
    """The client, from a per-process cache of a few seconds: every token request
    authenticates a client, and a database round trip per grant would cost more
    than the grant. A changed secret or registration takes effect within
    CACHE_SECONDS on every worker."""
    # Longer than the column, or with a NUL that PostgreSQL cannot compare:
    # no such client, without asking the database.
    if not client_id or len(client_id) > 100 or "\x00" in client_id:
        return None
    cache: dict[str, tuple[float, OAuthClient]] = current_app.extensions.setdefault("idp.client_cache", {})
    now = time.monotonic()
    hit = cache.get(client_id)
    if hit is not None and hit[0] > now:
        note_client(client_id)
        return hit[1]
    model = db.session().scalar(select(Client).where(Client.client_id == client_id))
    if model is None:
        cache.pop(client_id, None)
        return None
    db.session().expunge(model)
    client = OAuthClient(model)
    cache[client_id] = (now + CACHE_SECONDS, client)
    note_client(client_id)
    return client


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """client_id and secret from an HTTP Basic header, None if it is not one.

    RFC 6749 §2.3.1: both are form-urlencoded before they are joined and
    base64-encoded, so "+" is a space and "%2D" a "-". Anything malformed
    (bad base64, bytes that are not UTF-8, no colon) is simply no credential.
    """
    scheme, _, value = (header or "").partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


def authenticate_secret_basic(query_client: Any, request: OAuth2Request) -> OAuthClient | None:
    """client_secret_basic for authlib's client authentication registry."""
    credentials = basic_credentials(request.headers.get("Authorization"))
    if credentials is None or not all(credentials):
        return None
    client_id, secret = credentials
    client = query_client(client_id)
    if client is None:
        matches(secret, None)  # the same work as for a known client
        return None
    return client if client.check_client_secret(secret) else None


@dataclass
class Registration:
    name: str
    redirect_uris: list[str]
    grant_types: list[str] = field(default_factory=lambda: ["authorization_code", "refresh_token"])
    public: bool = False
    scope: str = "openid profile email offline_access"
    client_id: str | None = None
    secret: str | None = None
    post_logout_redirect_uris: list[str] = field(default_factory=list)
    auth_method: str | None = None
    jwks: dict[str, Any] | None = None
    id_token_alg: str | None = None


# RFC 8252 §7.1: a private-use scheme is a reverse domain name, e.g. com.example.app.
PRIVATE_USE_SCHEME = re.compile(r"[a-z][a-z0-9+\-]*(\.[a-z0-9][a-z0-9+\-]*)+")
MAX_URI_LENGTH = 2000


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def redirect_uri_problem(uri: str, public: bool) -> str | None:
    """Why ``uri`` cannot be registered as a (post-logout) redirect URI, or None.

    https anywhere; http only to this machine (RFC 8252 §7.3, loopback);
    for native apps, which are public clients, a private-use scheme
    (RFC 8252 §7.1). No fragment (RFC 6749 §3.1.2), no user name or password,
    nothing else (``javascript:``, ``data:``, ``file:``)."""
    if len(uri) > MAX_URI_LENGTH or "\\" in uri or any(c.isspace() or not c.isprintable() for c in uri):
        return "must be a URI without spaces, backslashes or control characters"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return "is not a valid URI"
    scheme = parts.scheme.lower()
    if "#" in uri:
        return "must not have a fragment"
    if "@" in parts.netloc:
        return "must not carry a user name or password"
    if scheme == "https":
        return None if parts.hostname else "must name a host"
    if scheme == "http":
        loopback = parts.hostname is not None and _is_loopback(parts.hostname)
        return None if loopback else "may use http only for 127.0.0.1, ::1 or localhost"
    if PRIVATE_USE_SCHEME.fullmatch(scheme):
        if not public:
            return "may use a private-use scheme only for a public (native) client"
        # §7.1: no naming authority, so a single slash after the scheme.
        return None if parts.path.startswith("/") and not parts.netloc else "must be of the form com.example.app:/path"
    return "must be https, http to a loopback address, or a native app's reverse-domain scheme"


def _check_redirect_uris(name: str, uris: list[str], public: bool) -> None:
    for uri in uris:
        if problem := redirect_uri_problem(uri, public):
            raise ValueError(f"{name} {uri!r} {problem}")


def register(reg: Registration) -> tuple[Client, str | None]:
    """Store a client; returns it and, for a confidential client, its secret (shown once)."""
    _check_redirect_uris("redirect URI", reg.redirect_uris, reg.public)
    _check_redirect_uris("post-logout redirect URI", reg.post_logout_redirect_uris, reg.public)
    for grant in reg.grant_types:
        if grant not in GRANT_TYPES:
            raise ValueError(f"unsupported grant type {grant!r}")
    method = reg.auth_method or ("none" if reg.public else "client_secret_basic")
    if method not in AUTH_METHODS:
        raise ValueError(f"unsupported token endpoint auth method {method!r}")
    secret = None
    if method in ("client_secret_basic", "client_secret_post"):
        secret = reg.secret or new_token(32)
    client = Client(
        client_id=reg.client_id or new_token(16),
        name=reg.name,
        secret_hash=digest(secret) if secret else None,
        token_endpoint_auth_method=method,
        redirect_uris=list(reg.redirect_uris),
        post_logout_redirect_uris=list(reg.post_logout_redirect_uris or reg.redirect_uris),
        grant_types=list(reg.grant_types),
        scope=reg.scope,
        jwks=reg.jwks,
        id_token_signed_response_alg=reg.id_token_alg,
    )
    db.session().add(client)
    db.session().flush()
    return client, secret
