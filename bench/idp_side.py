"""Our provider: a fresh PostgreSQL database, the demo data, gunicorn with sync workers."""

from __future__ import annotations

import os
import secrets
import sys
import time
from pathlib import Path

import requests
from procs import BenchError, Server, Supervisor, log, run, wait_for_port

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent  # the venv that runs the bench has idp and gunicorn
DATABASE = "bench_idp"
PG = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
CLIENT_ID = "demo-rp"
CLIENT_SECRET = "demo-rp-secret"
# The same settings as `make run` (config/gunicorn.py).
GUNICORN_CONFIG = ROOT / "config" / "gunicorn.py"
WORKERS = 4  # the ceiling runs as many argon2id processes
ALG = "ES256"


def environment(port: int, workdir: Path) -> dict[str, str]:
    """Settings that keep every file the run writes inside its own temp folder."""
    return {
        **os.environ,
        "IDP_ISSUER": f"http://127.0.0.1:{port}",
        "IDP_DATABASE_URL": f"postgresql+psycopg://postgres@127.0.0.1:5432/{DATABASE}",
        "IDP_KEYS_DIR": str(workdir / "keys"),
        "IDP_KEYS_ALG": ALG,
        "IDP_VAR_DIR": str(workdir / "var"),
        "IDP_SECRET_KEY": secrets.token_urlsafe(48),
    }


def recreate_database(name: str = DATABASE) -> None:
    # FORCE ends the connections a killed earlier run may have left behind.
    run([*PG, "-d", "postgres", "-c", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"])
    run([*PG, "-d", "postgres", "-c", f"CREATE DATABASE {name}"])


def idp(env: dict[str, str], *args: str) -> str:
    return run([str(BIN / "idp"), *args], env=env, cwd=ROOT)


def key_states(env: dict[str, str]) -> list[list[str]]:
    """`idp keys list`: kid, alg, state, created, activated per line."""
    return [line.split() for line in idp(env, "keys", "list").splitlines() if line.strip()]


def ensure_es256_active(env: dict[str, str]) -> None:
    """Both providers must sign with ES256, or the comparison is of algorithms.

    `idp keys ensure` creates an active key and its next per algorithm, as
    `make run` does; a rotation is the fallback should ES256 not be active.
    """
    idp(env, "keys", "ensure")
    for _ in range(2):
        if any(k[1:3] == [ALG, "active"] for k in key_states(env)):
            return
        idp(env, "keys", "rotate", "--alg", ALG, "--force")
    raise BenchError(f"no active {ALG} key after rotating:\n{idp(env, 'keys', 'list')}")


def prepare(env: dict[str, str], name: str = DATABASE) -> None:
    log(f"creating PostgreSQL database {name}, migrations, demo data, {ALG} key")
    recreate_database(name)
    idp(env, "db", "upgrade")
    idp(env, "demo")
    ensure_es256_active(env)


def stack() -> str:
    """What serves our side, for the report."""
    gunicorn = run([str(BIN / "gunicorn"), "--version"]).split()[-1].strip("()")
    postgres = run([*PG, "-d", "postgres", "-At", "-c", "SHOW server_version"]).split()[0]
    return f"gunicorn {gunicorn} -c config/gunicorn.py (-w {WORKERS} -k sync), PostgreSQL {postgres}"


def start(supervisor: Supervisor, port: int, env: dict[str, str], workdir: Path,
          app: str = "wsgi:app") -> Server:
    cmd = [str(BIN / "gunicorn"), "-c", str(GUNICORN_CONFIG), "-w", str(WORKERS),
           "-b", f"127.0.0.1:{port}", app]
    server = supervisor.start("idp (gunicorn)", cmd, env=env, cwd=ROOT,
                              log_path=workdir / "gunicorn.log")
    wait_for_port(server, supervisor, port)
    wait_for_discovery(server, supervisor, f"http://127.0.0.1:{port}")
    return server


def wait_for_discovery(server: Server, supervisor: Supervisor, base: str,
                       timeout: float = 30) -> None:
    """The port opens before the workers have loaded the app: wait for an answer."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        supervisor.check_alive()
        try:
            if requests.get(f"{base}/.well-known/openid-configuration", timeout=5).ok:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)
    raise BenchError(f"{server.name} gave no discovery document within {timeout:.0f} s:\n"
                     f"{server.log_tail()}")
