"""The request being served: its id and, once known, its client.

Kept in a context variable rather than in Flask's ``g`` because the fast
paths (idp/oidc/fastpath.py) answer without a Flask request, and log lines
written anywhere during the request carry the id.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

HEADER = "X-Request-Id"
# What a proxy may hand us: UUIDs, hex, the usual tracing ids; anything else
# (long, spaces, quotes, control characters) is replaced by our own.
ACCEPTED = re.compile(r"[A-Za-z0-9._:@/+=-]{1,128}")


@dataclass
class RequestState:
    request_id: str
    client_id: str | None = None


_current: ContextVar[RequestState | None] = ContextVar("idp_request", default=None)


def incoming_id(environ: dict[str, Any], from_trusted_proxy: bool) -> str:
    """The proxy's X-Request-Id when the peer is a trusted proxy and the value is
    well-formed; else a new one. A client's own header is never believed: it
    could tie its requests to someone else's."""
    value = environ.get("HTTP_X_REQUEST_ID")
    if value and from_trusted_proxy and ACCEPTED.fullmatch(value):
        return value
    return uuid.uuid4().hex


def begin(request_id: str) -> RequestState:
    state = RequestState(request_id)
    _current.set(state)
    return state


def end() -> None:
    _current.set(None)


def request_id() -> str | None:
    """This request's id (for pages and log lines); None outside a request."""
    state = _current.get()
    return state.request_id if state else None


def note_client(client_id: str) -> None:
    """Record the registered client this request concerns, for its log line."""
    state = _current.get()
    if state is not None:
        state.client_id = client_id


def current() -> RequestState | None:
    return _current.get()
