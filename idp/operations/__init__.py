"""What an operator watches: health probes, Prometheus metrics, JSON log lines
and the request id that ties a page, a log line and a proxy's log together."""

from __future__ import annotations

from flask import Flask

from . import context


def init_app(app: Flask, extra_headers: list[tuple[str, str]]) -> None:
    """Wrap the whole WSGI stack (fast paths included), so that every request is
    timed, counted, logged and carries a request id."""
    from .middleware import Operations  # imports the gateway, which records audit events

    app.add_template_global(context.request_id)
    app.wsgi_app = Operations(app, app.wsgi_app, extra_headers)  # type: ignore[method-assign]
