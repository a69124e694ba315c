"""The one source of the current time, so tests can move it instead of sleeping."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

_offset = timedelta()
# Pages and mails give times as the people reading them live them (Japan has no summer time).
JST = timezone(timedelta(hours=9), "JST")


def now() -> datetime:
    return datetime.now(UTC) + _offset


def timestamp() -> int:
    return int(now().timestamp())


def monotonic() -> float:
    """Seconds for measuring short intervals (caches): never steps back with the
    system clock, yet moves with ``advance``."""
    return time.monotonic() + _offset.total_seconds()


def advance(delta: timedelta) -> None:
    """Move the clock forward (tests only)."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta()


def japan(moment: datetime | None, fmt: str = "%Y/%m/%d %H:%M") -> str:
    """``moment`` in Japan time, or "-" when there is none."""
    return moment.astimezone(JST).strftime(fmt) if moment else "-"
