"""The peer: panva's oidc-provider from the npm registry, on node:cluster."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from procs import BenchError, Server, Supervisor, log, run, wait_for_log

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "peer"              # server.mjs, package.json, package-lock.json
INSTALL = HERE / ".peer"            # git-ignored: node_modules lives here
CLIENT_ID = "bench-rp"
CLIENT_SECRET = "bench-rp-secret"
WORKERS = 2


def pinned_version() -> str:
    return json.loads((SOURCE / "package.json").read_text())["dependencies"]["oidc-provider"]


def installed_version() -> str | None:
    manifest = INSTALL / "node_modules" / "oidc-provider" / "package.json"
    if not manifest.exists():
        return None
    return json.loads(manifest.read_text())["version"]


def ensure_installed() -> str:
    """Install the locked oidc-provider into bench/.peer unless it is there."""
    if not shutil.which("node") or not shutil.which("npm"):
        raise BenchError("node and npm are needed for the peer provider")
    wanted = pinned_version()
    if installed_version() != wanted:
        log(f"installing oidc-provider {wanted} into {INSTALL}")
        INSTALL.mkdir(exist_ok=True)
        for name in ("package.json", "package-lock.json"):
            shutil.copy(SOURCE / name, INSTALL / name)
        run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=INSTALL,
            timeout=300)
    return wanted


def start(supervisor: Supervisor, port: int, workdir: Path) -> Server:
    env = {
        **os.environ,
        "NODE_ENV": "production",
        "PEER_PORT": str(port),
        "PEER_WORKERS": str(WORKERS),
        "PEER_MODULES": str(INSTALL / "node_modules"),
        "PEER_CLIENT_ID": CLIENT_ID,
        "PEER_CLIENT_SECRET": CLIENT_SECRET,
    }
    server = supervisor.start("peer (oidc-provider)", ["node", str(SOURCE / "server.mjs")],
                              env=env, cwd=HERE, log_path=workdir / "peer.log")
    # server.mjs prints this once every worker listens; the port alone opens
    # with the first worker.
    wait_for_log(server, supervisor, "peer ready")
    return server
