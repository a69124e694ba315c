"""Authorization requests waiting for the person to sign in.

The protocol side stores the request here and sends the browser to the login
pages; after sign-in, the login pages send it back to resume the request. The
request lives in the signed Flask session cookie, under a random id, so it
survives the detour without server state and cannot be altered by the browser.
"""

from __future__ import annotations

from typing import Any

from authlib.common.urls import add_params_to_uri
from flask import session, url_for

from .. import clock
from ..hashing import new_token

MAX_PENDING = 5


def begin(args: dict[str, Any]) -> str:
    pending = dict(session.get("ix", {}))
    while len(pending) >= MAX_PENDING:
        pending.pop(min(pending, key=lambda k: pending[k]["started"]))
    ix = new_token(12)
    # Sub-second precision: a sign-in in the same second as the request began
    # must not count as having happened after it.
    pending[ix] = {"args": args, "started": clock.now().timestamp()}
    session["ix"] = pending
    return ix


def get(ix: str | None) -> dict[str, Any] | None:
    if not ix:
        return None
    return session.get("ix", {}).get(ix)


def finish(ix: str) -> None:
    pending = dict(session.get("ix", {}))
    if pending.pop(ix, None) is not None:
        session["ix"] = pending


def resume_url(ix: str | None) -> str | None:
    """The authorization request to go back to after sign-in, if one is waiting."""
    pending = get(ix)
    if pending is None:
        return None
    return add_params_to_uri(url_for("oidc.authorize"), [*pending["args"].items(), ("interaction", ix)])


def newest() -> str | None:
    """The authorization request that most recently sent this browser to sign in, if any."""
    pending = session.get("ix", {})
    return max(pending, key=lambda k: pending[k]["started"]) if pending else None
