"""Limits on things sent on request (reset mails, SMS codes): at most ``limit``
uses of a key in a window that starts at its first use.

Reading a count and acting on it lets racing requests all pass; so each store
takes a use in one atomic step. The database (the default, shared by every
node already) does it with one conditional UPDATE (or the INSERT that starts a
window); the row stays locked until the request's transaction ends, and a
request that rolls back (a message that could not be sent) gives its use back.
With ``IDP_REDIS_URL`` set, the counters live in Redis instead
(idp/redis_limits.py), with the same window and the same give-back. Callers
see one pair of functions, ``take`` and ``free_at``, whichever store is set.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from flask import Flask, current_app
from sqlalchemy import case, or_, update
from sqlalchemy.exc import IntegrityError

from . import clock, db
from .models import RateLimit


class Limits(Protocol):
    def take(self, key: str, limit: int, window: timedelta) -> bool: ...

    def free_at(self, key: str, limit: int, window: timedelta) -> datetime | None: ...


class DatabaseLimits:
    """Counters in the rate_limits table, in the request's transaction."""

    def take(self, key: str, limit: int, window: timedelta) -> bool:
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

    def free_at(self, key: str, limit: int, window: timedelta) -> datetime | None:
        row = db.session().get(RateLimit, key)
        if row is None or row.count < limit:
            return None
        at = row.window_started_at + window
        return at if at > clock.now() else None


def init_app(app: Flask, redis_url: str) -> None:
    store: Limits = DatabaseLimits()
    if redis_url:
        from .redis_limits import RedisLimits

        store = RedisLimits(redis_url, fallback=store)
    app.extensions["idp.ratelimit"] = store


def _store() -> Limits:
    return current_app.extensions["idp.ratelimit"]


def take(key: str, limit: int, window: timedelta) -> bool:
    """Use one of ``key``'s ``limit`` uses in the current window; False if none is left."""
    return _store().take(key, limit, window)


def free_at(key: str, limit: int, window: timedelta) -> datetime | None:
    """When ``key`` has a use again, if all ``limit`` uses of its window are taken now."""
    return _store().free_at(key, limit, window)
