"""A node lost in the middle of a load run (SIGKILL to its master and workers,
as when its machine goes away) loses no committed grant, and the other node
goes on serving.

Four clients run sign-in chains (sign in, exchange the code, refresh three
times), each step at the other node, and keep the last credential each chain
holds. After the loss they use the surviving node only, as a reverse proxy
would. Every credential a client received must then be in the database: if
it was never sent again it still works at the surviving node; if it was sent
to the lost node and no answer came, that request either spent it (its commit
came first) or it still works.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import requests
from sqlalchemy import select

from idp import db
from idp.hashing import digest
from idp.models import AuthorizationCode, RefreshToken

from ..conftest import Live
from ..functional.helpers import redeem, refresh
from .conftest import Cluster
from .test_two_nodes import code_at

CLIENTS = 4
CHAINS_PER_CLIENT = 9  # about 300 requests in all
LOSE_A_AFTER = 10  # chains done
REFRESHES = 3

# A node killed between an answer's headers and its body cuts the body short;
# to a client that is the same lost connection as one refused outright.
CUT_OFF = (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)


@dataclass
class Held:
    """The credential a chain holds last: a code (with its verifier) or a refresh token."""

    kind: str
    value: str
    verifier: str | None = None
    in_doubt: bool = False  # sent to the lost node, no answer came


class LoadRun:
    def __init__(self, cluster: Cluster) -> None:
        self.nodes = {"a": cluster.a, "b": cluster.b}
        self.lost: set[str] = set()
        self.held: list[Held] = []
        self.problems: list[str] = []
        self.done = 0
        self.done_after_loss = 0
        self.time_to_lose_a = threading.Event()
        self.a_lost = threading.Event()
        self._lock = threading.Lock()

    def node(self, turn: int) -> tuple[str, Live]:
        """The node for this turn: A and B in turn, only B once A stopped answering."""
        alive = [name for name in self.nodes if name not in self.lost]
        name = alive[turn % len(alive)]
        return name, self.nodes[name]

    def client(self, number: int) -> None:
        try:
            for chain in range(CHAINS_PER_CLIENT):
                self.chain(number + chain)
        except Exception as e:  # noqa: BLE001 (reported by the test's thread)
            with self._lock:
                self.problems.append(f"client {number}: {e!r}")

    def chain(self, turn: int) -> None:
        after_loss = self.a_lost.is_set()
        name, live = self.node(turn)
        try:
            code, verifier, _ = code_at(live)
        except CUT_OFF:
            self.lose(name)  # a sign-in cut off: the client holds nothing from it
            return
        held = Held("code", code, verifier)
        for step in range(1 + REFRESHES):
            name, live = self.node(turn + step + 1)
            try:
                answer = redeem(live, held.value, held.verifier) if held.kind == "code" else refresh(live, held.value)
            except CUT_OFF:
                held.in_doubt = True
                self.lose(name)
                break
            if answer.status_code != 200:
                with self._lock:
                    self.problems.append(f"{held.kind} at {name}: {answer.status_code} {answer.text[:200]}")
                return
            held = Held("refresh", answer.json()["refresh_token"])
        with self._lock:
            self.held.append(held)
            self.done += 1
            self.done_after_loss += after_loss and not held.in_doubt
            if self.done == LOSE_A_AFTER:
                self.time_to_lose_a.set()

    def lose(self, name: str) -> None:
        with self._lock:
            if name != "a" or not self.a_lost.is_set():
                self.problems.append(f"node {name} stopped answering")
            self.lost.add(name)


def _stored(live: Live, held: Held) -> AuthorizationCode | RefreshToken | None:
    query = (
        select(AuthorizationCode).where(AuthorizationCode.code_hash == digest(held.value))
        if held.kind == "code"
        else select(RefreshToken).where(RefreshToken.token_hash == digest(held.value))
    )
    with live.app.app_context():
        return db.session().scalar(query)


def _works(live: Live, held: Held) -> bool:
    answer = redeem(live, held.value, held.verifier) if held.kind == "code" else refresh(live, held.value)
    return answer.status_code == 200


def test_a_node_killed_under_load_loses_no_committed_grant(cluster: Cluster):
    run = LoadRun(cluster)
    clients = [threading.Thread(target=run.client, args=(n,)) for n in range(CLIENTS)]
    for client in clients:
        client.start()
    assert run.time_to_lose_a.wait(120), run.problems
    run.a_lost.set()  # before the kill: a client may meet the dead node the moment it dies
    cluster.nodes["a"].kill()
    for client in clients:
        client.join(240)
    assert not any(client.is_alive() for client in clients), "the load run did not end"

    assert run.problems == []
    assert run.lost == {"a"}, "the clients noticed the lost node"
    assert run.done_after_loss >= CLIENTS, "B went on serving whole chains"
    b = cluster.b
    for held in run.held:
        row = _stored(b, held)
        assert row is not None, f"a {held.kind} the client received is gone"
        if held.in_doubt and row.used_at is not None:
            continue  # spent by the request the lost node committed before it went
        assert row.used_at is None, f"a {held.kind} nobody sent again was spent"
        assert _works(b, held), f"a committed {held.kind} no longer works"
