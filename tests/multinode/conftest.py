"""Two provider nodes on one PostgreSQL database, with and without Redis (ids
``database`` and ``redis``: where the rate limits are counted)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from idp import db, migrate
from idp.config import load_settings

from .. import services
from ..conftest import Live, seeded_app, settings_environ
from ..transports import MailServer
from .nodes import Node, launch_node, run_idp, serving, stop


@pytest.fixture(scope="session")
def nodes_database() -> Iterator[str]:
    """One migrated PostgreSQL database per test process; each cluster empties it."""
    name = f"idp_nodes_{os.getpid()}"
    url = services.fresh_database(services.postgres_url(), name)
    engine = db.make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    services.drop_database(services.postgres_url(), name)


@dataclass
class Cluster:
    """Nodes A and B, each as a ``Live`` whose app (in this process, on the same
    database) prepares state and reads what the nodes wrote."""

    a: Live
    b: Live
    nodes: dict[str, Node]
    environ: dict[str, str]
    redis_url: str

    def idp(self, *args: str) -> subprocess.CompletedProcess[str]:
        return run_idp(self.environ, *args)


def start_cluster(
    database_url: str, folder: Path, key_template: Path, mail: MailServer, redis_url: str = ""
) -> Iterator[Cluster]:
    shutil.copytree(key_template, folder / "keys")
    # Every node has the same public issuer: the reverse proxy's address, which
    # nothing in the tests needs to answer on.
    issuer = f"http://127.0.0.1:{services.free_port()}"
    extra = {"IDP_SMTP_URL": mail.url} | ({"IDP_REDIS_URL": redis_url} if redis_url else {})
    environ = settings_environ(database_url, folder, issuer, **extra)
    settings = load_settings(environ)
    app = seeded_app(settings)
    nodes = {name: launch_node(name, environ, folder) for name in ("a", "b")}
    try:
        serving(list(nodes.values()))
        yield Cluster(
            Live(nodes["a"].url, app, settings), Live(nodes["b"].url, app, settings), nodes, environ, redis_url
        )
    finally:
        stop(list(nodes.values()))
        app.extensions["idp.engine"].dispose()


@pytest.fixture(params=["database", "redis"])
def cluster(request, nodes_database, tmp_path, key_template, mail) -> Iterator[Cluster]:
    redis_url = request.getfixturevalue("redis_url") if request.param == "redis" else ""
    yield from start_cluster(nodes_database, tmp_path, key_template, mail, redis_url)
