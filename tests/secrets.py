"""Every secret the tests hand to a provider or get from it, and a look for them
in its logs.

Installed for the whole session (tests/conftest.py): each request made with
``requests`` gives up its passwords, codes, tickets, tokens, client secrets and
cookies, each response its cookies and tokens. At the end every log the
providers wrote (their JSON lines in this process, and the whole output of each
gunicorn run in tests/served.py) is searched for them. Six-digit SMS and TOTP
codes are too short to search for without matching times and counts.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests

NAMES = re.compile(
    r"(.*password.*|.*secret|.*token|code|ticket|client_assertion|code_verifier|id_token_hint|recovery_code)"
)
MIN_LENGTH = 8
# Cookies that hold no credential: the remembered AD connection id (mailed, shown, in URLs).
PUBLIC_COOKIES = re.compile(r"(__Host-)?idp_ad")
SEEN: set[str] = set()


def _keep(value: str | None) -> None:
    if value and len(value) >= MIN_LENGTH:
        SEEN.add(value)


def _pairs(text: str) -> list[tuple[str, str]]:
    return parse_qsl(text, keep_blank_values=True)


def _from_params(pairs: Iterable[tuple[str, str]]) -> None:
    for name, value in pairs:
        if NAMES.fullmatch(name.lower()):
            _keep(value)


def _from_authorization(header: str) -> None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            _keep(base64.b64decode(value).decode().partition(":")[2])
        except (binascii.Error, UnicodeDecodeError):
            pass
    else:
        _keep(value.strip())


def harvest_request(prepared: requests.PreparedRequest) -> None:
    _from_params(_pairs(urlsplit(prepared.url or "").query))
    body = prepared.body
    if isinstance(body, bytes):
        body = body.decode(errors="replace")
    if isinstance(body, str) and "=" in body and not body.lstrip().startswith("{"):
        _from_params(_pairs(body))
    _from_authorization(prepared.headers.get("Authorization", ""))
    for crumb in prepared.headers.get("Cookie", "").split(";"):
        name, _, value = crumb.partition("=")
        if not PUBLIC_COOKIES.fullmatch(name.strip()):
            _keep(value.strip())


def harvest_response(response: requests.Response) -> None:
    for cookie in response.cookies:
        if not PUBLIC_COOKIES.fullmatch(cookie.name):
            _keep(cookie.value)
    _from_params(_pairs(urlsplit(response.headers.get("Location", "")).query))
    if response.headers.get("Content-Type", "").startswith("application/json"):
        try:
            body: Any = response.json()
        except ValueError:
            return
        if isinstance(body, dict):
            _from_params((k, v) for k, v in body.items() if isinstance(v, str))


_send = requests.Session.send


def _harvesting_send(self: requests.Session, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
    harvest_request(request)
    response = _send(self, request, **kwargs)
    harvest_response(response)
    return response


def install() -> None:
    requests.Session.send = _harvesting_send  # type: ignore[method-assign]


def leaks(logs: Iterable[Path], secrets: Iterable[str]) -> list[str]:
    """Where a secret appears: "file: first characters of the secret…"."""
    found = []
    for log in logs:
        if not log.exists():
            continue
        text = log.read_text(errors="replace")
        found += [f"{log}: {secret[:6]}…" for secret in secrets if secret in text]
    return found
