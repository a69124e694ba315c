"""Rate limits in Redis (``IDP_REDIS_URL``): the counters of idp/ratelimit.py,
shared by every node without a database write per use.

A use is taken by one Lua script, which Redis runs alone, so racing requests
on any node cannot pass together. The script keeps the database store's
window: it opens at the first use, on the provider's clock, and admits
``limit`` uses; the key expires with it. A request that ends without
committing (rolled back, or failed) gives its use back, as the database's row
lock does, through a second script that takes one off only while the window
it was taken in is still the current one.

When Redis cannot be reached, uses are counted in the database instead of
failing the request. Refusing would stop every SMS sign-in while Redis is
down; admitting without counting would let anyone who can upset Redis send
mails and SMS without limit. The database is shared by every node and no
request runs without it, so the limits keep holding across nodes (a window
that straddles the switch may admit its limit twice, once). The outage is
logged once, and Redis is asked again after ``RETRY_AFTER`` seconds.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import redis
from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from . import clock, db
from .ratelimit import Limits

log = logging.getLogger("idp.ratelimit")

PREFIX = "idp:ratelimit:"
RETRY_AFTER = 30.0
# A local Redis answers in well under a millisecond; one that does not answer
# within this must not hold a sign-in up for long.
TIMEOUT = 0.5

# KEYS[1] the counter; ARGV now (ms), window (ms), limit. Returns the window's
# start (ms) when a use was taken, -1 when none is left.
TAKE = """
local started = tonumber(redis.call('HGET', KEYS[1], 'started'))
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if started == nil or started <= now - window then
  redis.call('HSET', KEYS[1], 'started', ARGV[1], 'count', 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return now
end
if tonumber(redis.call('HGET', KEYS[1], 'count')) >= limit then
  return -1
end
redis.call('HINCRBY', KEYS[1], 'count', 1)
return started
"""

# KEYS[1] the counter; ARGV[1] the start of the window the use was taken in.
GIVE_BACK = """
if redis.call('HGET', KEYS[1], 'started') == ARGV[1] then
  if redis.call('HINCRBY', KEYS[1], 'count', -1) <= 0 then
    redis.call('DEL', KEYS[1])
  end
end
return 0
"""

_TAKEN = "idp.redis_limits.taken"


class Unavailable(Exception):
    """Redis did not answer; the caller counts in the database."""


def _ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


class RedisLimits:
    def __init__(self, url: str, fallback: Limits) -> None:
        self.client = redis.Redis.from_url(url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT)
        self.fallback = fallback
        self._take = self.client.register_script(TAKE)
        self._give_back = self.client.register_script(GIVE_BACK)
        self._down_until: float | None = None
        self._lock = threading.Lock()

    def take(self, key: str, limit: int, window: timedelta) -> bool:
        try:
            started = self._ask(lambda: self._take(keys=[PREFIX + key], args=[_ms(clock.now()), _ms_of(window), limit]))
        except Unavailable:
            return self.fallback.take(key, limit, window)
        if started < 0:
            return False
        self._give_back_on_rollback(PREFIX + key, str(started))
        return True

    def free_at(self, key: str, limit: int, window: timedelta) -> datetime | None:
        try:
            started, count = self._ask(lambda: self.client.hmget(PREFIX + key, "started", "count"))
        except Unavailable:
            return self.fallback.free_at(key, limit, window)
        if started is None or int(count) < limit:
            return None
        at = datetime.fromtimestamp(int(started) / 1000, UTC) + window
        return at if at > clock.now() else None

    def _ask(self, command: Callable[[], Any]) -> Any:
        """Run ``command`` on Redis, or raise Unavailable while it is known to be down."""
        if self._down_until is not None and time.monotonic() < self._down_until:
            raise Unavailable
        try:
            answer = command()
        except redis.RedisError as e:
            self._went_down(e)
            raise Unavailable from e
        if self._down_until is not None:
            self._came_back()
        return answer

    def _went_down(self, error: redis.RedisError) -> None:
        with self._lock:
            if self._down_until is None:
                # The error names host and port, never the URL's password.
                log.warning("rate limits: Redis unreachable (%s); counting in the database", error)
            self._down_until = time.monotonic() + RETRY_AFTER

    def _came_back(self) -> None:
        with self._lock:
            if self._down_until is not None:
                log.warning("rate limits: Redis answers again; counting in Redis")
            self._down_until = None

    def _give_back_on_rollback(self, key: str, started: str) -> None:
        session = db.session()
        session.connection()  # begin the transaction whose end decides the use
        taken = session.info.get(_TAKEN)
        if taken is None:
            taken = session.info[_TAKEN] = []
            event.listen(session, "after_commit", _keep)
            # Any end but a commit gives the uses back: a rollback, and also a
            # session closed without committing (a request that failed).
            event.listen(session, "after_transaction_end", self._ended)
        taken.append((key, started))

    def _ended(self, session: Session, ended: SessionTransaction) -> None:
        if ended.nested or ended.parent is not None:
            return  # a savepoint: the request's transaction goes on
        taken, session.info[_TAKEN] = session.info[_TAKEN], []
        for key, started in taken:
            try:
                self._ask(lambda key=key, started=started: self._give_back(keys=[key], args=[started]))
            except Unavailable:
                return  # the use stays taken: the safe side


def _keep(session: Session) -> None:
    session.info[_TAKEN] = []


def _ms_of(window: timedelta) -> int:
    return int(window.total_seconds() * 1000)
