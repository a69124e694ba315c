"""Provider nodes as operators run them: separate gunicorn masters started with
config/gunicorn.py, each on its own port, sharing what a deployment shares
(the PostgreSQL database, the keys/ folder, the secret key and, when set,
Redis); each keeps its own var/ folder."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import requests

from ..conftest import Live
from ..rp import Browser
from ..services import free_port, wait_until_serving

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
IDP = str(Path(sys.executable).with_name("idp"))
WORKERS = 2  # per node


@dataclass
class Node:
    name: str
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def terminate(self, timeout: float = 60) -> int:
        """SIGTERM to the master, as an init system stops it; its exit status."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        """SIGKILL to the master and its workers at once, as a lost machine."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)


def process_environ(environ: dict[str, str]) -> dict[str, str]:
    """This process's environment (PYTHONPATH included) with ``environ`` as the only IDP_* settings."""
    return {k: v for k, v in os.environ.items() if not k.startswith("IDP_")} | environ


def launch_node(name: str, environ: dict[str, str], folder: Path, workers: int = WORKERS) -> Node:
    """Start a node; ``serving`` waits until it answers."""
    port = free_port()
    env = process_environ(environ) | {
        "IDP_VAR_DIR": str(folder / f"var-{name}"),
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "WORKERS": str(workers),
        "ACCESS_LOG": "1",
    }
    log = folder / f"node-{name}.log"
    with log.open("w") as out:
        # A session of its own, so that a SIGKILL to its process group takes the workers too.
        process = subprocess.Popen(
            [GUNICORN, "-c", "config/gunicorn.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    return Node(name, f"http://127.0.0.1:{port}", process, log)


def serving(nodes: list[Node]) -> None:
    try:
        for node in nodes:
            wait_until_serving(node.url, node.process, node.log)
    except BaseException:
        stop(nodes)
        raise


def stop(nodes: list[Node]) -> None:
    """SIGTERM to every node still running, then wait for each (SIGKILL after a minute)."""
    running = [node for node in nodes if node.process.poll() is None]
    for node in running:
        node.process.send_signal(signal.SIGTERM)
    for node in running:
        try:
            node.process.wait(60)
        except subprocess.TimeoutExpired:
            node.kill()


def run_idp(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The operator's `idp` command, with the nodes' settings."""
    return subprocess.run(
        [IDP, *args], cwd=ROOT, env=process_environ(environ), capture_output=True, text=True, timeout=120
    )


def at(live: Live, browser: Browser) -> Browser:
    """The same browser (its cookies) talking to another node, its current page
    as if that node had served it, so that the next form goes there."""
    moved = Browser(live.url, browser.http)
    if browser.last is not None:
        page = copy.copy(browser.last)
        parts = urlsplit(page.url)
        page.url = live.url + parts.path + (f"?{parts.query}" if parts.query else "")
        moved.last = page
    return moved


def jwks(live: Live) -> dict[str, object]:
    response = requests.get(live.url + "/jwks", timeout=10)
    assert response.status_code == 200
    return response.json()
