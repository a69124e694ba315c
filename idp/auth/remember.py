""" "Remember this browser": skips the second step while the browser keeps being used.

The cookie names a server-side record (stored as a digest, with its last
use). Forgetting it, resetting the account, or 30 days without use ends it.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Response, current_app, g, request
from sqlalchemy import select, update

from .. import clock, db
from ..hashing import digest, new_token
from ..models import RememberedBrowser, User
from .sessions import host_cookie

COOKIE = "idp_remember"
IDLE_LIMIT = timedelta(days=30)


def _https() -> bool:
    return current_app.extensions["idp.settings"].https


def _cookie() -> str:
    return host_cookie(COOKIE, _https())


def recognises(user: User) -> bool:
    """True if this browser was remembered for ``user`` and used within 30 days;
    the use is recorded, which keeps it alive."""
    token = request.cookies.get(_cookie())
    if not token or len(token) > 128:
        return False
    now = clock.now()
    row = db.session().scalar(select(RememberedBrowser).where(RememberedBrowser.token_hash == digest(token)))
    if row is None or row.user_id != user.id or row.revoked_at is not None:
        return False
    if now - row.last_used_at > IDLE_LIMIT:
        return False
    row.last_used_at = now
    return True


def remember(user: User) -> None:
    token = new_token(32)
    db.session().add(RememberedBrowser(token_hash=digest(token), user_id=user.id, last_used_at=clock.now()))
    g.idp_remember_cookie = token


def forget_this_browser() -> None:
    token = request.cookies.get(_cookie())
    if token:
        _revoke(RememberedBrowser.token_hash == digest(token))
        g.idp_remember_cookie = ""


def forget_all(user: User) -> None:
    _revoke(RememberedBrowser.user_id == user.id)


def _revoke(condition) -> None:  # type: ignore[no-untyped-def]
    db.session().execute(
        update(RememberedBrowser)
        .where(condition, RememberedBrowser.revoked_at.is_(None))
        .values(revoked_at=clock.now())
        .execution_options(synchronize_session=False)
    )


def write_cookie(response: Response) -> Response:
    token = g.pop("idp_remember_cookie", None)
    if token is None:
        return response
    https = _https()
    if token:
        max_age = int(IDLE_LIMIT.total_seconds()) * 12  # the record decides; the cookie just carries it
        response.set_cookie(_cookie(), token, max_age=max_age, httponly=True, secure=https, samesite="Lax", path="/")
    else:
        response.delete_cookie(_cookie(), path="/", httponly=True, secure=https, samesite="Lax")
    return response
