"""Processes the benchmark starts, and what /proc says about them.

Every server is started in a session of its own, so it does not get the
terminal's Ctrl-C before we are ready, and so that stopping it by its process
group also stops the workers it forked.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """A failure that ends the run with a one-line explanation."""


def log(message: str) -> None:
    """Progress goes to stderr so that stdout keeps only `name: value` lines."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(cmd: list[str], *, env: dict[str, str] | None = None, cwd: Path | None = None,
        timeout: float = 120) -> str:
    """Run a setup command; on failure, show its output and stop the run."""
    try:
        done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True,
                              timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{' '.join(cmd)} took longer than {timeout:.0f} s") from exc
    if done.returncode != 0:
        raise BenchError(f"{' '.join(cmd)} failed ({done.returncode}):\n"
                         f"{done.stdout}{done.stderr}".rstrip())
    return done.stdout


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    log_path: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


class Supervisor:
    """Starts servers and guarantees they are all stopped, whatever happens."""

    def __init__(self) -> None:
        self.servers: list[Server] = []

    def start(self, name: str, cmd: list[str], *, env: dict[str, str], cwd: Path,
              log_path: Path) -> Server:
        log_file = open(log_path, "wb")  # noqa: SIM115 - owned by the child
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log_file,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        log_file.close()
        server = Server(name, proc, log_path)
        self.servers.append(server)
        return server

    def check_alive(self) -> None:
        for server in self.servers:
            if server.proc.poll() is not None:
                raise BenchError(f"{server.name} exited ({server.proc.returncode}):\n"
                                 f"{server.log_tail()}")

    def stop_all(self) -> None:
        for server in reversed(self.servers):
            stop_group(server.proc)
        self.servers.clear()

    def __enter__(self) -> Supervisor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop_all()


def stop_group(proc: subprocess.Popen, grace: float = 5) -> None:
    """SIGTERM the process group we created, then SIGKILL what is left."""
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=grace)
    except ProcessLookupError:
        pass


def wait_for_port(server: Server, supervisor: Supervisor, port: int,
                  timeout: float = 30) -> None:
    """Wait until something accepts connections on the port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        supervisor.check_alive()
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise BenchError(f"{server.name} did not listen on port {port} within {timeout:.0f} s:\n"
                     f"{server.log_tail()}")


def wait_for_log(server: Server, supervisor: Supervisor, text: str,
                 timeout: float = 30) -> None:
    """Wait until the server says it is ready (all its workers listen)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        supervisor.check_alive()
        if text in server.log_path.read_text(errors="replace"):
            return
        time.sleep(0.1)
    raise BenchError(f"{server.name} did not print {text!r} within {timeout:.0f} s:\n"
                     f"{server.log_tail()}")


# --- /proc -----------------------------------------------------------------

def children(pid: int) -> list[int]:
    """Direct children of a process (the workers of gunicorn or node:cluster)."""
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(p) for p in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process, in seconds (0 if it is gone)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    # The command name may contain spaces; the fields after it do not.
    fields = stat.rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / CLOCK_TICKS


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


@dataclass(frozen=True)
class CpuSample:
    pids: frozenset[int]
    seconds: float


def sample_cpu(master: int) -> CpuSample:
    """CPU time of a master and its workers, and which workers there were."""
    workers = children(master)
    total = cpu_seconds(master) + sum(cpu_seconds(p) for p in workers)
    return CpuSample(frozenset(workers), total)
