"""The hottest requests without the framework in the way.

Machine clients ask for tokens thousands of times a second, and relying
parties fetch discovery and the JWKS as often; profiling showed most of each
such request going to Flask's request machinery and authlib's grant
dispatch, not to the work itself (one secret digest, one ES256 signature, or
none). This WSGI layer answers three well-formed cases directly:

- ``GET`` discovery and ``GET /jwks``: bytes prepared once (the JWKS once per
  key-set change);
- ``POST /token`` with ``grant_type=client_credentials`` and
  ``client_secret_basic`` credentials of a client allowed that grant: the same
  token the authlib grant would issue.

Anything else, including every error, falls through unchanged to the Flask
application, so errors, other grants and other client authentication stay in
one place.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from . import clients
from .server import Server
from .views import DISCOVERY_CACHE, DISCOVERY_PATHS, JWKS_TYPE, jwks_cache_control

MAX_BODY = 4096
HEADERS = [
    ("Content-Type", "application/json"),
    ("Cache-Control", "no-store"),
    ("Pragma", "no-cache"),
]


def _form(body: bytes) -> dict[str, str] | None:
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return None
    form = dict(pairs)
    return form if len(form) == len(pairs) else None  # duplicates: let the full path refuse


class HotPaths:
    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]], extra_headers: list[tuple[str, str]]):
        self.app = app
        self.wsgi_app = wsgi_app
        self.headers = HEADERS + extra_headers
        self.extra_headers = extra_headers
        settings = app.extensions["idp.settings"]
        self.discovery = app.extensions["idp.discovery"]
        self.jwks_cache = jwks_cache_control(settings.jwks_max_age)
        self.keys = app.extensions["idp.keys"]

    def _static(self, start_response: Callable[..., Any], body: bytes, content_type: str, cache: str) -> list[bytes]:
        headers = [("Content-Type", content_type), ("Cache-Control", cache), *self.extra_headers]
        start_response("200 OK", [*headers, ("Content-Length", str(len(body)))])
        return [body]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if method == "GET" and path in DISCOVERY_PATHS:
            return self._static(start_response, self.discovery, "application/json", DISCOVERY_CACHE)
        if method == "GET" and path == "/jwks":
            return self._static(start_response, self.keys.current().jwks_body, JWKS_TYPE, self.jwks_cache)
        if path == "/token" and method == "POST" and not environ.get("QUERY_STRING"):
            body = self._read_body(environ)
            if body is not None:
                try:
                    token = self._issue(environ, body)
                except SQLAlchemyError:
                    token = None  # the application answers, with its 503 page for a database outage
                if token is not None:
                    payload = json.dumps(token).encode()
                    start_response("200 OK", [*self.headers, ("Content-Length", str(len(payload)))])
                    return [payload]
                environ["wsgi.input"] = io.BytesIO(body)  # the full path reads it again
        return self.wsgi_app(environ, start_response)

    @staticmethod
    def _read_body(environ: dict[str, Any]) -> bytes | None:
        if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return None
        if not 0 < length <= MAX_BODY:
            return None
        return environ["wsgi.input"].read(length)

    def _issue(self, environ: dict[str, Any], body: bytes) -> dict[str, Any] | None:
        form = _form(body)
        if form is None or form.get("grant_type") != "client_credentials" or not set(form) <= {"grant_type", "scope"}:
            return None
        credentials = clients.basic_credentials(environ.get("HTTP_AUTHORIZATION", ""))
        if credentials is None:
            return None
        with self.app.app_context():
            client = clients.find(credentials[0])
            if (
                client is None
                or not client.check_endpoint_auth_method("client_secret_basic", "token")
                or not client.check_grant_type("client_credentials")
                or not client.check_client_secret(credentials[1])
            ):
                return None
            server: Server = self.app.extensions["idp.server"]
            scope = client.get_allowed_scope(form.get("scope", ""))
            return server.make_token("client_credentials", client, scope=scope)
