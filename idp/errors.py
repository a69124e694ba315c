"""One place that turns failures into responses: JSON for protocol endpoints,
a page in the person's language otherwise. Never a traceback; every 5xx
carries an error id that is also logged."""

from __future__ import annotations

import json
import logging

from flask import Flask, render_template, request
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .hashing import new_token

log = logging.getLogger("idp.errors")

PROTOCOL_PATHS = ("/token", "/userinfo", "/revoke", "/introspect", "/jwks", "/.well-known/")


def _wants_json() -> bool:
    return request.path.startswith(PROTOCOL_PATHS)


def _respond(status: int, error: str, description: str, error_id: str | None = None) -> Response:
    if _wants_json():
        body = {"error": error, "error_description": description}
        if error_id:
            body["error_id"] = error_id
        return Response(
            json.dumps(body), status=status, content_type="application/json", headers={"Cache-Control": "no-store"}
        )
    page = render_template("errors/page.html", status=status, error=error, error_id=error_id)
    return Response(page, status=status, content_type="text/html; charset=utf-8")


def init_app(app: Flask) -> None:
    @app.errorhandler(HTTPException)
    def _http(e: HTTPException) -> Response:
        code = e.code or 500
        error = "invalid_request" if code < 500 else "server_error"
        if code == 404:
            error = "not_found"
        elif code == 405:
            error = "method_not_allowed"
        return _respond(code, error, e.description or "")

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _db_down(e: Exception) -> Response:
        error_id = new_token(6)
        log.error("database unavailable [%s]: %s", error_id, e.__class__.__name__)
        response = _respond(503, "temporarily_unavailable", "the service is temporarily unavailable", error_id)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def _unexpected(e: Exception) -> Response:
        if isinstance(e, DBAPIError) and e.connection_invalidated:
            return _db_down(e)
        error_id = new_token(6)
        log.exception("unexpected error [%s]", error_id)
        return _respond(500, "server_error", "an unexpected error occurred", error_id)
