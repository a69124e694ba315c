"""Housekeeping a process does by itself, on a path it runs anyway (no thread
of its own): the signing path looks at the key rotation schedule, each page
request at the daily pass over the tenants.

The look must cost almost nothing, since it sits on every such path: one
clock read while the period has not passed. Once it has, exactly one caller
in the process is told the work is due (the others, and a racing thread, are
told it is not and carry on at once); work that must also be done once
across processes or nodes takes its own non-blocking lock besides.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class AtMostEvery:
    """Says "due" at most once per ``every`` seconds of ``now`` in this process."""

    def __init__(self, every: float, now: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.next_at = 0.0  # the first look is due
        self._now = now
        self._lock = threading.Lock()

    def due(self) -> bool:
        now = self._now()
        if now < self.next_at:
            return False
        if not self._lock.acquire(blocking=False):
            return False  # another thread of this process is being told right now
        try:
            if now < self.next_at:
                return False
            self.next_at = now + self.every
            return True
        finally:
            self._lock.release()
