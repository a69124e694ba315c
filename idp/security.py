"""Headers on every response: no framing, no sniffing, a strict CSP, HSTS on https."""

from __future__ import annotations

from flask import Flask
from werkzeug.wrappers import Response

# Pages post only to us, but the browser applies form-action to the redirects
# that follow a form post too (login -> authorize -> the client), so the
# client's scheme must be allowed.
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self' {schemes}; "
    "frame-ancestors 'none'; base-uri 'none'"
)


def static_headers(https: bool) -> list[tuple[str, str]]:
    """The headers every response carries, whatever produced it."""
    headers = [
        ("Content-Security-Policy", CSP.format(schemes="https:" if https else "https: http:")),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "no-referrer"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if https:
        headers.append(("Strict-Transport-Security", "max-age=63072000; includeSubDomains"))
    return headers


def init_app(app: Flask, https: bool) -> None:
    headers = static_headers(https)

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in headers:
            response.headers.setdefault(name, value)
        if response.content_type and response.content_type.startswith("text/html"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
