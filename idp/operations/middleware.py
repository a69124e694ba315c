"""The outermost WSGI layer: the probes and the scrape, answered before the
application (no session, no cookie, no template, no CSRF or form check, no
audit row); for every other request a request id, timing, counts and the
request's log line, whether Flask or a fast path answered it."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

from flask import Flask
from prometheus_client import CONTENT_TYPE_LATEST
from werkzeug.exceptions import HTTPException
from werkzeug.routing import Map
from werkzeug.wrappers import Request
from werkzeug.wsgi import ClosingIterator

from ..tenants.gateway import client_of, within
from . import context, health, logs, metrics

StartResponse = Callable[..., Any]
NO_STORE = ("Cache-Control", "no-store")
UNMATCHED = "unmatched"
STATUS_LINES = {
    200: "200 OK",
    401: "401 Unauthorized",
    403: "403 Forbidden",
    405: "405 Method Not Allowed",
    503: "503 Service Unavailable",
}


@lru_cache(maxsize=2048)
def _matched(url_map: Map, path: str, method: str) -> str:
    try:
        endpoint, _ = url_map.bind("localhost").match(path, method=method)
    except HTTPException:
        return UNMATCHED
    return str(endpoint)


class Operations:
    def __init__(self, app: Flask, wsgi_app: Callable[..., Iterable[bytes]], extra_headers: list[tuple[str, str]]):
        self.app = app
        self.wsgi_app = wsgi_app
        self.extra_headers = extra_headers
        settings = app.extensions["idp.settings"]
        self.proxies = settings.line_trusted_proxies
        self.metrics_token = settings.metrics_token
        self.keys = app.extensions["idp.keys"]
        self.probe = health.probe_engine(settings.database_url)
        self.own = {
            "/healthz": ("operations.healthz", self._healthz),
            "/readyz": ("operations.readyz", self._readyz),
            "/metrics": ("operations.metrics", self._metrics),
        }

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()
        # The proxies the line gateway trusts with X-Forwarded-For are the ones
        # trusted to name the request.
        trusted = within(environ.get("REMOTE_ADDR"), self.proxies)
        state = context.begin(context.incoming_id(environ, trusted))
        answered: dict[str, int] = {}

        def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered["status"] = int(status.split(" ", 1)[0])
            headers = [(k, v) for k, v in headers if k.lower() != "x-request-id"]
            return start_response(status, [*headers, (context.HEADER, state.request_id)], exc_info)

        own = self.own.get(environ.get("PATH_INFO", ""))
        endpoint = own[0] if own else self._endpoint(environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", ""))

        def finish() -> None:
            status = answered.get("status", 500)
            seconds = time.perf_counter() - started
            metrics.observe_request(endpoint, status, seconds)
            client = client_of(Request(environ, shallow=True), self.proxies)
            logs.log_request(state, environ, status, seconds, endpoint, client)
            context.end()

        try:
            body = self._own(environ, start, own[1]) if own else self.wsgi_app(environ, start)
        except BaseException:
            finish()
            raise
        return ClosingIterator(body, finish)

    def _endpoint(self, path: str, method: str) -> str:
        """The Flask endpoint the request maps to, never its raw path (which is
        unbounded and may be anything a scanner tries). Matched once per path and
        method a worker meets (bounded: the least recent go first)."""
        return _matched(self.app.url_map, path, method)

    def _own(self, environ: dict[str, Any], start: StartResponse, answer: Callable[..., list[bytes]]) -> list[bytes]:
        """Probes and scrapes are GET (or HEAD, the same without a body); anything
        else is a plain 405, never a page or the application's form checks."""
        method = environ.get("REQUEST_METHOD")
        if method not in ("GET", "HEAD"):
            return self._json(start, 405, {"error": "method_not_allowed"}, ("Allow", "GET, HEAD"))
        body = answer(environ, start)
        return [] if method == "HEAD" else body

    def _answer(
        self, start: StartResponse, status: int, body: bytes, content_type: str, *headers: tuple[str, str]
    ) -> list[bytes]:
        start(
            STATUS_LINES[status],
            [
                ("Content-Type", content_type),
                ("Content-Length", str(len(body))),
                NO_STORE,
                *headers,
                *self.extra_headers,
            ],
        )
        return [body]

    def _json(self, start: StartResponse, status: int, body: dict[str, Any], *headers: tuple[str, str]) -> list[bytes]:
        return self._answer(start, status, json.dumps(body).encode(), "application/json", *headers)

    def _healthz(self, environ: dict[str, Any], start: StartResponse) -> list[bytes]:
        return self._json(start, 200, {"status": "ok"})

    def _readyz(self, environ: dict[str, Any], start: StartResponse) -> list[bytes]:
        status, body = health.readiness(self.probe, self.keys)
        return self._json(start, status, body)

    def _metrics(self, environ: dict[str, Any], start: StartResponse) -> list[bytes]:
        refused = metrics.access(environ, self.metrics_token)
        if refused == 401:
            return self._json(start, 401, {"error": "unauthorized"}, ("WWW-Authenticate", 'Bearer realm="metrics"'))
        if refused:
            return self._json(start, refused, {"error": "forbidden"})
        return self._answer(start, 200, metrics.exposition(self.keys), CONTENT_TYPE_LATEST)
