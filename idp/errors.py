"""One place that turns failures into responses: JSON for protocol endpoints,
a page in the person's language otherwise. Never a traceback; every 5xx
carries an error id that is also logged."""

from __future__ import annotations

import json
import logging

from flask import Flask, render_template, request
from sqlalchemy.exc import DataError, DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.wrappers import Response

from .hashing import new_token

log = logging.getLogger("idp.errors")

PROTOCOL_PATHS = ("/token", "/userinfo", "/revoke", "/introspect", "/jwks", "/.well-known/")


def _wants_json() -> bool:
    return request.path.startswith(PROTOCOL_PATHS)


def _respond(
    status: int, error: str, description: str, error_id: str | None = None, message: str | None = None
) -> Response:
    if _wants_json():
        body = {"error": error, "error_description": description}
        if error_id:
            body["error_id"] = error_id
        return Response(
            json.dumps(body), status=status, content_type="application/json", headers={"Cache-Control": "no-store"}
        )
    page = _page(status, error, error_id, message)
    return Response(page, status=status, content_type="text/html; charset=utf-8")


def _page(status: int, error: str, error_id: str | None, message: str | None) -> str:
    """A page in the person's language. A 403 (a page this account may not use,
    manual §0) says so and leads back to the account menu, which lists what it may use."""
    if status == 403:
        return render_template("errors/forbidden.html")
    return render_template("errors/page.html", status=status, error=error, error_id=error_id, message=message)


def refuse_nul() -> None:
    """before_request: no parameter of any protocol or page carries a NUL
    character, and PostgreSQL cannot store or even compare one (it would fail
    deep inside as a 500), so such a request is refused at the door."""
    if any("\x00" in key or "\x00" in value for key, value in request.values.items(multi=True)):
        raise BadRequest("a parameter contains a NUL character")


def init_app(app: Flask) -> None:
    app.before_request(refuse_nul)

    @app.errorhandler(HTTPException)
    def _http(e: HTTPException) -> Response:
        code = e.code or 500
        error = "invalid_request" if code < 500 else "server_error"
        if code == 404:
            error = "not_found"
        elif code == 405:
            error = "method_not_allowed"
        # An exception may carry a sentence for the person (idp.forms.NotAForm).
        message = getattr(e, "page_message", None)
        response = _respond(code, error, e.description or "", message=str(message) if message else None)
        # Keep what the exception says beyond its body, e.g. Allow on a 405
        # (RFC 9110 §15.5.6 requires it).
        for name, value in e.get_headers():
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(OperationalError)
    @app.errorhandler(PoolTimeout)
    def _db_down(e: Exception) -> Response:
        error_id = new_token(6)
        log.error("database unavailable [%s]: %s", error_id, e.__class__.__name__)
        response = _respond(503, "temporarily_unavailable", "the service is temporarily unavailable", error_id)
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(DataError)
    def _bad_data(e: DataError) -> Response:
        # A value the database refuses (too long, not representable): the
        # request's fault, not the service's. Checks at the edges should make
        # this rare; it is logged so that each one can get its own check.
        log.warning("value refused by the database: %s", e.orig.__class__.__name__ if e.orig else e)
        return _respond(400, "invalid_request", "the request carries a value that cannot be stored")

    @app.errorhandler(Exception)
    def _unexpected(e: Exception) -> Response:
        if isinstance(e, DBAPIError) and e.connection_invalidated:
            return _db_down(e)
        error_id = new_token(6)
        log.exception("unexpected error [%s]", error_id)
        return _respond(500, "server_error", "an unexpected error occurred", error_id)
