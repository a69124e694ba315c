"""Headers on every response: no framing, no sniffing, a strict CSP, HSTS on https."""

from __future__ import annotations

from flask import Flask
from werkzeug.wrappers import Response

CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' {form_targets}; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def init_app(app: Flask, https: bool) -> None:
    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        # Pages post only to us; the authorization endpoint redirects after a
        # form post, and a CSP form-action would block that redirect, so allow http(s).
        h.setdefault("Content-Security-Policy", CSP.format(form_targets="https: http:" if not https else "https:"))
        h.setdefault("X-Content-Type-Options", "nosniff")
        h.setdefault("X-Frame-Options", "DENY")
        h.setdefault("Referrer-Policy", "no-referrer")
        h.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if https:
            h.setdefault("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
        if response.content_type and response.content_type.startswith("text/html"):
            h.setdefault("Cache-Control", "no-store")
        return response
