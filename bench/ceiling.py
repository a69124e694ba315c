"""The password ceiling: bare argon2id verifies per second on this machine.

A login costs one argon2id verify, so no amount of work on the rest of the
login path can take logins per second above this figure. It runs with the
provider's own cost settings, in as many processes as there are gunicorn
workers, so it uses the cores the same way.
"""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

from argon2 import PasswordHasher

PASSWORD = "Demo-pass-2026"


@dataclass(frozen=True)
class Cost:
    time_cost: int
    memory_cost: int
    parallelism: int

    def __str__(self) -> str:
        return f"argon2id m={self.memory_cost} t={self.time_cost} p={self.parallelism}"


def verifies(cost: Cost, stored: str, seconds: float) -> tuple[int, float]:
    """How many verifies one process did, and the CPU seconds they took."""
    hasher = PasswordHasher(time_cost=cost.time_cost, memory_cost=cost.memory_cost,
                            parallelism=cost.parallelism)
    count = 0
    cpu = time.process_time()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        hasher.verify(stored, PASSWORD)
        count += 1
    return count, time.process_time() - cpu


def measure(cost: Cost, processes: int, seconds: float) -> tuple[float, float]:
    """Verifies per second over all processes, and the CPU milliseconds of one verify."""
    stored = PasswordHasher(time_cost=cost.time_cost, memory_cost=cost.memory_cost,
                            parallelism=cost.parallelism).hash(PASSWORD)
    start = time.monotonic()
    with ProcessPoolExecutor(max_workers=processes) as pool:
        results = list(pool.map(verifies, [cost] * processes, [stored] * processes,
                                [seconds] * processes))
    count = sum(n for n, _ in results)
    return count / (time.monotonic() - start), sum(cpu for _, cpu in results) * 1000 / count
