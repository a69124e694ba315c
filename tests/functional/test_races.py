"""Two requests racing for the same single-use thing: exactly one wins, and the
database decides (one conditional UPDATE in idp/oidc/store.py), not Python."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import requests

from ..rp import pkce_pair
from .helpers import code_flow, redeem, refresh, signed_in_code

ROUNDS = 5
T = TypeVar("T")


def race(request: Callable[[], T], contenders: int = 2) -> list[T]:
    """Fire ``contenders`` copies of ``request`` at the same moment."""
    barrier = threading.Barrier(contenders)
    results: list[T] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        response = request()
        with lock:
            results.append(response)

    threads = [threading.Thread(target=run) for _ in range(contenders)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == contenders
    return results


def assert_one_winner(results: list[requests.Response]) -> requests.Response:
    winners = [r for r in results if r.status_code == 200]
    losers = [r for r in results if r.status_code != 200]
    assert len(winners) == 1, [(r.status_code, r.text[:200]) for r in results]
    for loser in losers:
        assert loser.status_code == 400, loser.text
        assert loser.json()["error"] == "invalid_grant"
    return winners[0]


def test_a_code_redeemed_twice_at_once_has_one_winner(live):
    browser = None
    for _ in range(ROUNDS):
        verifier, challenge = pkce_pair()
        code, browser = signed_in_code(live, browser, code_challenge=challenge, code_challenge_method="S256")
        assert_one_winner(race(lambda code=code, verifier=verifier: redeem(live, code, verifier)))


def test_a_code_redeemed_by_many_at_once_has_one_winner(live):
    verifier, challenge = pkce_pair()
    code, _ = signed_in_code(live, code_challenge=challenge, code_challenge_method="S256")
    assert_one_winner(race(lambda: redeem(live, code, verifier), contenders=5))


def test_a_refresh_token_used_twice_at_once_has_one_winner(live):
    rp = live.rp()
    for _ in range(ROUNDS):
        _, tokens = code_flow(live, rp)
        assert_one_winner(race(lambda tokens=tokens: refresh(live, tokens["refresh_token"])))


def test_a_refresh_token_used_by_many_at_once_has_one_winner(live):
    _, tokens = code_flow(live)
    assert_one_winner(race(lambda: refresh(live, tokens["refresh_token"]), contenders=5))
