"""The once-per-period helper shared by the key rotation schedule and the
daily pass over the tenants: due once, then not until the period has passed."""

from __future__ import annotations

import threading

from idp.periodic import AtMostEvery


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_due_at_the_first_look_then_once_per_period():
    clock = Clock()
    schedule = AtMostEvery(60, now=clock)
    assert schedule.due()
    assert not schedule.due()
    clock.now += 59.9
    assert not schedule.due()
    clock.now += 0.1
    assert schedule.due()
    assert not schedule.due()


def test_of_many_threads_looking_at_once_one_is_told():
    schedule = AtMostEvery(3600, now=Clock())
    start = threading.Barrier(8)
    told: list[bool] = []

    def look() -> None:
        start.wait()
        told.append(schedule.due())

    threads = [threading.Thread(target=look) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert told.count(True) == 1
