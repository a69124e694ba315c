"""Registered clients as authlib sees them (ClientMixin), and their registration."""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
import secrets
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import SplitResult, unquote_plus, urlsplit

from authlib.oauth2.rfc6749 import ClientMixin, OAuth2Request, list_to_scope, scope_to_list
from flask import current_app
from sqlalchemy import select

from .. import clock, db
from ..hashing import digest, matches, new_token
from ..models import Client
from ..operations.context import note_client
from .client_keys import public_key_set

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
        """The current secret, or the one before it while its grace lasts
        (``idp client rotate-secret``). Anything else is checked again against
        the stored registration, which the cache may not have caught up with:
        so a new secret works at once on every worker, and a previous secret
        that a second rotation dropped stops at once."""
        if matches(client_secret, self.model.secret_hash):
            return True
        stored = load(self.client_id)
        return stored is not None and secret_matches(stored.model, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.model.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.model.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        if grant_type == "client_credentials" and self.public:
            return False
        return grant_type in self.model.grant_types


def secret_matches(model: Client, secret: str) -> bool:
    current = matches(secret, model.secret_hash)
    previous = matches(secret, model.previous_secret_hash)  # compared either way: the same time
    expires = model.previous_secret_expires_at
    return current or (previous and expires is not None and expires > clock.now())


CACHE_SECONDS = 5.0


def _cache() -> dict[str, tuple[float, OAuthClient]]:
    return current_app.extensions.setdefault("idp.client_cache", {})


def find(client_id: str | None) -> OAuthClient | None:
    """The client, from a per-process cache of a few seconds: every token request
    authenticates a client, and a database round trip per grant would cost more
    than the grant. A changed registration, or a deleted client, takes effect
    within CACHE_SECONDS on every worker (secrets: see check_client_secret)."""
    # Longer than the column, or with a NUL that PostgreSQL cannot compare:
    # no such client, without asking the database.
    if not client_id or len(client_id) > 100 or "\x00" in client_id:
        return None
    hit = _cache().get(client_id)
    if hit is not None and hit[0] > clock.monotonic():
        note_client(client_id)
        return hit[1]
    return load(client_id)


def load(client_id: str) -> OAuthClient | None:
    """The client as stored now, put in the cache."""
    model = db.session().scalar(select(Client).where(Client.client_id == client_id))
    if model is None:
        _cache().pop(client_id, None)
        return None
    db.session().expunge(model)
    client = OAuthClient(model)
    _cache()[client_id] = (clock.monotonic() + CACHE_SECONDS, client)
    note_client(client_id)
    return client


def still_registered(client_id: str) -> bool:
    """Asked of the database, not the cache: a deleted client's tokens stop at once."""
    return db.session().scalar(select(Client.id).where(Client.client_id == client_id)) is not None


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
    jwks_uri: str | None = None
    id_token_alg: str | None = None

    @property
    def method(self) -> str:
        return self.auth_method or ("none" if self.public else "client_secret_basic")

    @property
    def is_public(self) -> bool:
        return self.public or self.auth_method == "none"


# RFC 8252 §7.1: a private-use scheme is a reverse domain name, e.g. com.example.app.
PRIVATE_USE_SCHEME = re.compile(r"[a-z][a-z0-9+\-]*(\.[a-z0-9][a-z0-9+\-]*)+")
MAX_URI_LENGTH = 2000
# RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")
SECRET_METHODS = ("client_secret_basic", "client_secret_post")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _split_uri(uri: str) -> tuple[SplitResult | None, str | None]:
    """The URI's parts, or why it is no URI to register: spaces, control
    characters, a fragment (RFC 6749 §3.1.2), a user name or password."""
    if len(uri) > MAX_URI_LENGTH or "\\" in uri or any(c.isspace() or not c.isprintable() for c in uri):
        return None, "must be a URI without spaces, backslashes or control characters"
    try:
        parts = urlsplit(uri)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return None, "is not a valid URI"
    if "#" in uri:
        return None, "must not have a fragment"
    if "@" in parts.netloc:
        return None, "must not carry a user name or password"
    return parts, None


def _web_problem(parts: SplitResult) -> str | None:
    """https anywhere; http only to this machine (RFC 8252 §7.3, loopback)."""
    if parts.scheme.lower() == "https":
        return None if parts.hostname else "must name a host"
    loopback = parts.hostname is not None and _is_loopback(parts.hostname)
    return None if loopback else "may use http only for 127.0.0.1, ::1 or localhost"


def redirect_uri_problem(uri: str, public: bool) -> str | None:
    """Why ``uri`` cannot be registered as a (post-logout) redirect URI, or None.

    A web URI (``_web_problem``); for native apps, which are public clients, a
    private-use scheme (RFC 8252 §7.1); nothing else (``javascript:``,
    ``data:``, ``file:``)."""
    parts, problem = _split_uri(uri)
    if parts is None:
        return problem
    scheme = parts.scheme.lower()
    if scheme in ("https", "http"):
        return _web_problem(parts)
    if PRIVATE_USE_SCHEME.fullmatch(scheme):
        if not public:
            return "may use a private-use scheme only for a public (native) client"
        # §7.1: no naming authority, so a single slash after the scheme.
        return None if parts.path.startswith("/") and not parts.netloc else "must be of the form com.example.app:/path"
    return "must be https, http to a loopback address, or a native app's reverse-domain scheme"


def jwks_uri_problem(uri: str) -> str | None:
    """Why the provider will not fetch keys from ``uri``: https, or http on loopback."""
    parts, problem = _split_uri(uri)
    if parts is None:
        return problem
    if parts.scheme.lower() not in ("https", "http"):
        return "must be https, or http to a loopback address"
    return _web_problem(parts)


def _check_redirect_uris(name: str, uris: list[str], public: bool) -> None:
    for uri in uris:
        if problem := redirect_uri_problem(uri, public):
            raise ValueError(f"{name} {uri!r} {problem}")


def _check_name(reg: Registration) -> None:
    if not reg.name.strip() or len(reg.name) > 200 or not reg.name.isprintable():
        raise ValueError("the name must be 1 to 200 printable characters")


def _check_method(reg: Registration) -> None:
    if reg.method not in AUTH_METHODS:
        raise ValueError(f"unsupported token endpoint auth method {reg.method!r}")
    if reg.public and reg.method != "none":
        raise ValueError(f"a public client has no secret and no keys: its auth method is none, not {reg.method!r}")


def _check_grants(reg: Registration) -> None:
    if not reg.grant_types:
        raise ValueError("give at least one grant type")
    for grant in reg.grant_types:
        if grant not in GRANT_TYPES:
            raise ValueError(f"unsupported grant type {grant!r}")
    if reg.is_public and "client_credentials" in reg.grant_types:
        raise ValueError("a public client cannot use the client_credentials grant")
    if "authorization_code" in reg.grant_types and not reg.redirect_uris:
        raise ValueError("a redirect URI is required for the authorization_code grant")


def _check_keys(reg: Registration) -> None:
    """private_key_jwt (RFC 7523 §2.2) needs its public keys, given or published;
    any other method has no use for them."""
    if reg.method != "private_key_jwt":
        if reg.jwks or reg.jwks_uri:
            raise ValueError("keys (jwks, jwks_uri) are for the private_key_jwt auth method only")
        return
    if bool(reg.jwks) == bool(reg.jwks_uri):
        raise ValueError("private_key_jwt needs its public keys: a jwks_uri or a JWK set, one of the two")
    if reg.jwks_uri and (problem := jwks_uri_problem(reg.jwks_uri)):
        raise ValueError(f"jwks_uri {reg.jwks_uri!r} {problem}")
    if reg.jwks:
        try:
            reg.jwks = public_key_set(reg.jwks)
        except ValueError as err:
            raise ValueError(f"the JWK set {err}") from None


def _check_scope(reg: Registration) -> None:
    tokens = reg.scope.split(" ")
    if not reg.scope or not all(SCOPE_TOKEN.fullmatch(t) for t in tokens):
        raise ValueError(f"scope {reg.scope!r} must be scope names separated by single spaces (RFC 6749 §3.3)")


CHECKS = (_check_name, _check_method, _check_grants, _check_keys, _check_scope)


def new_client_id() -> str:
    """128 random bits in hex: a URL-safe token may begin with "-", which the
    command line would read as an option (``idp client show -gs5...``)."""
    return secrets.token_hex(16)


def register(reg: Registration) -> tuple[Client, str | None]:
    """Store a client; returns it and, for a confidential client, its secret (shown once)."""
    _check_redirect_uris("redirect URI", reg.redirect_uris, reg.is_public)
    _check_redirect_uris("post-logout redirect URI", reg.post_logout_redirect_uris, reg.is_public)
    for check in CHECKS:
        check(reg)
    secret = (reg.secret or new_token(32)) if reg.method in SECRET_METHODS else None
    client = Client(
        client_id=reg.client_id or new_client_id(),
        name=reg.name,
        secret_hash=digest(secret) if secret else None,
        token_endpoint_auth_method=reg.method,
        redirect_uris=list(reg.redirect_uris),
        post_logout_redirect_uris=list(reg.post_logout_redirect_uris or reg.redirect_uris),
        grant_types=list(reg.grant_types),
        scope=reg.scope,
        jwks=reg.jwks,
        jwks_uri=reg.jwks_uri,
        id_token_signed_response_alg=reg.id_token_alg,
    )
    db.session().add(client)
    db.session().flush()
    return client, secret
