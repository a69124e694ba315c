"""Real services the tests need: PostgreSQL (the machine's, or a private one)."""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

MACHINE_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def stop_process(process: subprocess.Popen[bytes], grace: float = 5) -> None:
    """A test peer stopped: asked first, killed when it does not go within ``grace`` seconds."""
    process.terminate()
    try:
        process.wait(grace)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def wait_for_signal() -> None:
    """Block until Ctrl-C or SIGTERM: a peer run by hand serves until then."""
    stopped = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopped.set())
    stopped.wait()


@contextlib.contextmanager
def silent_port() -> Iterator[int]:
    """A loopback port that takes connections (the kernel's backlog) and never
    answers: a peer that is up but silent."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _private_postgres() -> str:
    """Start a throw-away PostgreSQL on a free port (initdb refuses root: run as postgres)."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        raise RuntimeError("PostgreSQL is not installed; `make test` installs it")
    bindir, port = bins[-1], free_port()
    folder = subprocess.check_output(["runuser", "-u", "postgres", "--", "mktemp", "-d"], text=True).strip()
    run = ["runuser", "-u", "postgres", "--"]
    subprocess.check_call(
        [*run, f"{bindir}/initdb", "-A", "trust", "-E", "UTF8", "--no-sync", "-D", f"{folder}/data"],
        stdout=subprocess.DEVNULL,
    )
    subprocess.check_call(
        [
            *run,
            f"{bindir}/pg_ctl",
            "-w",
            "-D",
            f"{folder}/data",
            "-l",
            f"{folder}/log",
            "start",
            "-o",
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off",
        ],
        stdout=subprocess.DEVNULL,
    )

    def stop() -> None:
        subprocess.call(
            [*run, f"{bindir}/pg_ctl", "-D", f"{folder}/data", "-m", "immediate", "stop"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        shutil.rmtree(folder, ignore_errors=True)

    atexit.register(stop)
    subprocess.check_call([*run, f"{bindir}/createdb", "-h", "127.0.0.1", "-p", str(port), "test"])
    return f"postgresql+psycopg://postgres@127.0.0.1:{port}/test"


def postgres_url() -> str:
    """The server URL for tests: IDP_TEST_POSTGRES, the machine's, or a private one."""
    if url := os.environ.get("IDP_TEST_POSTGRES"):
        return url
    if port_open("127.0.0.1", 5432):
        return MACHINE_PG
    url = _private_postgres()
    os.environ["IDP_TEST_POSTGRES"] = url  # xdist workers started later reuse it
    return url


def fresh_database(server_url: str, name: str) -> str:
    """Create (or re-create) database ``name`` on the server of ``server_url``."""
    import psycopg

    base = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_database(server_url: str, name: str) -> None:
    import psycopg

    base = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_port(host: str, port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not port_open(host, port):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{host}:{port} did not open")
        time.sleep(0.05)


def wait_until_serving(base: str, server: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    """Wait until a provider started as ``server`` answers its discovery document."""
    import requests

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.poll() is None, log.read_text()
        try:
            if requests.get(base + "/.well-known/openid-configuration", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError(f"the provider did not answer:\n{log.read_text()}")


def temp_dir(prefix: str) -> str:
    return tempfile.mkdtemp(prefix=prefix)


class RedisServer:
    """A private redis-server on a free loopback port, nothing saved to disk."""

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.folder = tempfile.mkdtemp(prefix="idp-redis-")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RedisServer:
        args = ["--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            ["/usr/bin/redis-server", *args, "--dir", self.folder],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port("127.0.0.1", self.port)
        return self

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None
        shutil.rmtree(self.folder, ignore_errors=True)
