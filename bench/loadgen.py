"""The HTTP load generator: wrk with check.lua, which checks every response."""

from __future__ import annotations

import base64
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from procs import BenchError, log, run

CHECK_LUA = Path(__file__).with_name("check.lua")
THREADS = 2
CONNECTIONS = 32


@dataclass(frozen=True)
class Request:
    """One request that wrk sends again and again, and what a good answer holds."""

    url: str
    expect: str
    method: str = "GET"
    body: str = ""
    authorization: str = ""
    headers: tuple[str, ...] = ()  # more headers, "Name: value"


@dataclass(frozen=True)
class Result:
    requests: int
    good: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    sample: str

    @property
    def rps(self) -> float:
        # Only checked good answers count: a fast stream of errors is no speed.
        return self.good / self.seconds


def basic_auth(client_id: str, secret: str) -> str:
    # RFC 6749 §2.3.1: both parts are form-encoded first; ours are plain ASCII.
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def ensure_wrk() -> str:
    """wrk comes from Debian; install it when missing."""
    path = shutil.which("wrk")
    if path:
        return path
    log("installing wrk from Debian")
    env_cmd = ["env", "DEBIAN_FRONTEND=noninteractive"]
    install = [*env_cmd, "apt-get", "install", "-y", "--no-install-recommends", "wrk"]
    try:
        run(install, timeout=300)
    except BenchError:
        run([*env_cmd, "apt-get", "update"], timeout=300)
        run(install, timeout=300)
    path = shutil.which("wrk")
    if not path:
        raise BenchError("wrk is still missing after apt-get install wrk")
    return path


def drive(wrk: str, request: Request, seconds: float) -> Result:
    """Run wrk for a fixed time and return its checked totals."""
    cmd = [wrk, f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds:g}s", "--timeout", "10s",
           *(arg for h in request.headers for arg in ("-H", h)),
           "-s", str(CHECK_LUA), request.url, "--",
           request.method, request.expect, request.body, request.authorization]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30)
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"wrk against {request.url} did not finish") from exc
    return parse(done.stdout, done.stderr, request.url)


def parse(stdout: str, stderr: str, url: str) -> Result:
    fields: dict[str, int] = {}
    sample = ""
    for line in stdout.splitlines():
        if line.startswith("BENCH "):
            fields = {k: int(v) for k, v in (p.split("=") for p in line.split()[1:])}
        elif line.startswith("BENCH_SAMPLE "):
            sample = line.removeprefix("BENCH_SAMPLE ")
    if not fields:
        raise BenchError(f"wrk against {url} printed no totals:\n{stdout}{stderr}")
    errors = (fields["bad_status"] + fields["bad_body"] + fields["socket_errors"]
              + fields["requests"] - fields["checked"])
    good = fields["checked"] - fields["bad_status"] - fields["bad_body"]
    return Result(
        requests=fields["requests"],
        good=good,
        errors=errors,
        seconds=fields["duration_us"] / 1e6,
        p50_ms=fields["p50_us"] / 1000,
        p99_ms=fields["p99_us"] / 1000,
        sample=sample,
    )
