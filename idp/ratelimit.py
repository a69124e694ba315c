"""Limits on things sent on request (reset mails, SMS codes): at most ``limit``
uses of a key in a window that starts at its first use.

Reading a count and acting on it lets racing requests all pass; here taking a
use is one conditional UPDATE (or the INSERT that starts a window), so the
database admits exactly ``limit``. The row stays locked until the request's
transaction ends: a request that rolls back (a message that could not be
sent) gives its use back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import case, or_, update
from sqlalchemy.exc import IntegrityError

from . import clock, db
from .models import RateLimit


def take(key: str, limit: int, window: timedelta) -> bool:
    """Use one of ``key``'s ``limit`` uses in the current window; False if none is left."""
    session, now = db.session(), clock.now()
    expired = RateLimit.window_started_at <= now - window
    for _ in range(2):
        won = session.execute(
            update(RateLimit)
            .where(RateLimit.key == key, or_(expired, RateLimit.count < limit))
            .values(
                count=case((expired, 1), else_=RateLimit.count + 1),
                window_started_at=case((expired, now), else_=RateLimit.window_started_at),
            )
            .execution_options(synchronize_session=False)
        ).rowcount
        if won:
            return True
        try:
            with session.begin_nested():
                session.add(RateLimit(key=key, window_started_at=now, count=1))
            return True
        except IntegrityError:
            # The row exists: either the limit is reached, or another request
            # inserted it first and the UPDATE above should be tried again.
            continue
    return False


def free_at(key: str, limit: int, window: timedelta) -> datetime | None:
    """When ``key`` has a use again, if all ``limit`` uses of its window are taken now."""
    row = db.session().get(RateLimit, key)
    if row is None or row.count < limit:
        return None
    at = row.window_started_at + window
    return at if at > clock.now() else None
