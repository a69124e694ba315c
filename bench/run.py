"""make bench: our provider against panva's oidc-provider on the same machine.

Both run as two worker processes on the same two cores and get the same load
from the same generator (wrk with check.lua), in interleaved repetitions so
that a slow moment of the machine hits both alike. Figures are medians over
the repetitions, printed as `name: value` lines on stdout; progress goes to
stderr. Any request that fails makes the run exit non-zero after the figures.

    .venv/bin/python bench/run.py [--reps N] [--seconds S] [--peer-only]
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import json
import os
import secrets
import signal
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import ceiling
import idp_side
import loadgen
import login
import peer_side
import requests
import scale
from procs import (
    BenchError,
    Server,
    Supervisor,
    children,
    cpu_seconds,
    free_port,
    log,
    rss_mb,
    sample_cpu,
)

BUDGET_SECONDS = 300        # the whole run, setup included; a hard stop
# BENCH_USERS=1000000: also seed that many people and time a sign-in and a refresh among them.
BENCH_USERS = int(os.environ.get("BENCH_USERS", "0") or 0)
SMALL = 1000                # the size every run measures at
SEED_SECONDS_PER_MILLION = 540
WARMUP_SECONDS = 3
SIDE_SECONDS = 4            # discovery and JWKS: cheap, so shorter runs suffice
LOGIN_PROCESSES = 4         # enough clients to keep the gunicorn workers busy
LOGIN_SECONDS = 10
CEILING_SECONDS = 5
BUSY_LOAD = 0.5             # load average above which the figures are suspect


class Timeout(Exception):
    pass


@dataclass
class Target:
    """One provider under test and the three requests we load it with."""

    prefix: str                # "" for ours, "peer_" for the peer
    server: Server
    base: str
    token: loadgen.Request
    discovery: loadgen.Request
    jwks: loadgen.Request
    token_close: loadgen.Request
    token_endpoint: str = ""
    authorization_endpoint: str = ""


@dataclass
class Figures:
    """Samples per figure name, and every failure seen on the way."""

    samples: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    def add(self, name: str, value: float) -> None:
        self.samples.setdefault(name, []).append(value)

    def median(self, name: str) -> float | None:
        values = self.samples.get(name)
        return statistics.median(values) if values else None


# --- describing the targets -------------------------------------------------

def discover(base: str) -> dict:
    response = requests.get(f"{base}/.well-known/openid-configuration", timeout=10)
    if response.status_code != 200:
        raise BenchError(f"{base}: discovery answered {response.status_code}")
    return response.json()


def same_origin(url: str, base: str) -> str:
    """Endpoint URLs must point at the server we started, on loopback."""
    if not url.startswith(base + "/"):
        raise BenchError(f"{url} is not served by {base}: check the issuer setting")
    return url


def describe(prefix: str, server: Server, base: str, client_id: str, secret: str) -> Target:
    meta = discover(base)
    token_endpoint = same_origin(meta["token_endpoint"], base)
    jwks_uri = same_origin(meta["jwks_uri"], base)
    log(f"{prefix or 'ours_'}token: {token_endpoint}, jwks: {urlsplit(jwks_uri).path}")
    token = loadgen.Request(token_endpoint, "access_token", "POST",
                            "grant_type=client_credentials", loadgen.basic_auth(client_id, secret))
    return Target(
        prefix=prefix,
        server=server,
        base=base,
        token=token,
        token_close=dataclasses.replace(token, headers=("Connection: close",)),
        discovery=loadgen.Request(f"{base}/.well-known/openid-configuration", "jwks_uri"),
        jwks=loadgen.Request(jwks_uri, '"keys"'),
        token_endpoint=token_endpoint,
        authorization_endpoint=meta.get("authorization_endpoint", ""),
    )


def jose_header(token: str) -> dict:
    head = token.split(".")[0]
    return json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))


def preflight(target: Target) -> None:
    """One grant by hand: the load is only comparable if both issue ES256 JWTs."""
    name = target.prefix or "ours"
    r = requests.post(target.token.url, data={"grant_type": "client_credentials"},
                      headers={"Authorization": target.token.authorization}, timeout=10)
    if r.status_code != 200 or "access_token" not in r.text:
        raise BenchError(f"{name}: client_credentials answered {r.status_code}: {r.text[:300]}")
    token = r.json()["access_token"]
    if token.count(".") != 2:
        raise BenchError(f"{name}: the access token is not a JWT (RFC 9068): {token[:40]}...")
    header = jose_header(token)
    if header.get("alg") != "ES256":
        raise BenchError(f"{name}: access token signed with {header.get('alg')}, not ES256")
    if header.get("typ", "").lower() not in ("at+jwt", "application/at+jwt"):
        log(f"warning: {name}: access token typ is {header.get('typ')!r}, not at+jwt")


# --- measuring --------------------------------------------------------------

def checked_drive(wrk: str, figures: Figures, label: str,
                  request: loadgen.Request, seconds: float) -> loadgen.Result:
    result = loadgen.drive(wrk, request, seconds)
    if result.errors:
        figures.errors.append(f"{label}: {result.errors} of {result.requests} requests failed;"
                              f" first: {result.sample or 'socket errors'}")
    log(f"{label}: {result.rps:.0f}/s, p99 {result.p99_ms:.1f} ms, errors {result.errors}")
    return result


def measure_token(wrk: str, figures: Figures, target: Target, name: str,
                  request: loadgen.Request, seconds: float,
                  db_cpu: Callable[[], float] | None = None) -> None:
    """Grants per second, and what each grant cost the server in CPU time."""
    before = sample_cpu(target.server.pid)
    db_before = db_cpu() if db_cpu else 0.0
    name = f"{target.prefix}{name}"
    result = checked_drive(wrk, figures, name, request, seconds)
    after = sample_cpu(target.server.pid)
    db_after = db_cpu() if db_cpu else 0.0
    if before.pids != after.pids:
        figures.errors.append(f"{target.server.name}: workers changed during {name} "
                              f"({sorted(before.pids)} -> {sorted(after.pids)}): one died")
    figures.add(f"{name}_rps", result.rps)
    figures.add(f"{name}_p99_ms", result.p99_ms)
    if result.requests:
        figures.add(f"{name}_cpu_us", (after.seconds - before.seconds) * 1e6 / result.requests)
        if db_cpu:
            figures.add(f"{name}_db_cpu_us", (db_after - db_before) * 1e6 / result.requests)


def measure_get(wrk: str, figures: Figures, target: Target, name: str,
                request: loadgen.Request) -> None:
    result = checked_drive(wrk, figures, f"{target.prefix}{name}", request, SIDE_SECONDS)
    figures.add(f"{target.prefix}{name}_rps", result.rps)


def postgres_cpu() -> float:
    """CPU seconds of the PostgreSQL backends serving our database.

    Not part of token_cc_cpu_us (gunicorn only), but the peer keeps its tokens
    in memory, so this is the rest of the bill for our grants.
    """
    out = subprocess.run(
        [*idp_side.PG, "-d", "postgres", "-At", "-c",
         f"SELECT pid FROM pg_stat_activity WHERE datname = '{idp_side.DATABASE}'"],
        capture_output=True, text=True, timeout=10).stdout
    return sum(cpu_seconds(int(pid)) for pid in out.split())


def worker_rss(server: Server) -> float:
    return max((rss_mb(pid) for pid in children(server.pid)), default=0.0)


def load_rounds(wrk: str, figures: Figures, targets: list[Target], reps: int,
                seconds: float) -> None:
    """Interleaved: ours, peer, ours, peer... so drifts of the machine hit both."""
    for target in targets:
        checked_drive(wrk, figures, f"{target.prefix}warmup", target.token, WARMUP_SECONDS)
    for rep in range(1, reps + 1):
        log(f"repetition {rep} of {reps}")
        for target in targets:
            db = postgres_cpu if target.prefix == "" else None
            measure_token(wrk, figures, target, "token_cc", target.token, seconds, db)
        # gunicorn's sync workers close the connection after every response,
        # node keeps it open: the peer once more on the same footing as ours.
        peer = targets[-1]
        measure_token(wrk, figures, peer, "token_cc_close", peer.token_close, seconds)
        for target in targets:
            measure_get(wrk, figures, target, "discovery", target.discovery)
        for target in targets:
            measure_get(wrk, figures, target, "jwks", target.jwks)


def measure_logins(figures: Figures, target: Target) -> None:
    log(f"login roundtrips: {LOGIN_PROCESSES} processes for {LOGIN_SECONDS} s")
    endpoints = login.Endpoints(target.authorization_endpoint, target.token_endpoint)
    before = sample_cpu(target.server.pid)
    totals = login.drive(endpoints, LOGIN_PROCESSES, LOGIN_SECONDS)
    after = sample_cpu(target.server.pid)
    if totals.roundtrips:
        figures.add("login_cpu_ms", (after.seconds - before.seconds) * 1000 / totals.roundtrips)
        figures.add("login_client_cpu_ms", totals.client_cpu_seconds * 1000 / totals.roundtrips)
    if totals.errors:
        figures.errors.append(f"login: {totals.errors} of {totals.roundtrips + totals.errors}"
                              f" roundtrips failed; first: {totals.first_error}")
    if totals.roundtrips == 0 and not totals.errors:
        figures.errors.append("login: no roundtrip completed")
    figures.add("login_roundtrips_per_s", totals.per_second)


def measure_ceiling(figures: Figures, env: dict[str, str]) -> str:
    # The provider's own settings loader, with the environment gunicorn got.
    sys.path.insert(0, str(idp_side.ROOT))
    from idp.config import load_settings
    settings = load_settings(env)
    cost = ceiling.Cost(settings.argon2_time_cost, settings.argon2_memory_cost,
                        settings.argon2_parallelism)
    log(f"password ceiling: {cost}, {idp_side.WORKERS} processes for {CEILING_SECONDS} s")
    per_second, verify_cpu_ms = ceiling.measure(cost, idp_side.WORKERS, CEILING_SECONDS)
    figures.add("password_ceiling_per_s", per_second)
    figures.add("argon2_verify_cpu_ms", verify_cpu_ms)
    return str(cost)


def measure_queries(figures: Figures, env: dict[str, str]) -> None:
    """SQL statements per login round trip, counted inside one process."""
    sys.path.insert(0, str(idp_side.ROOT))
    import inprocess

    app, issuer = inprocess.app_for(env)
    figures.add("login_queries", inprocess.counted(app, issuer))


def measure_scale(figures: Figures, target: Target, env: dict[str, str], supervisor: Supervisor,
                  workdir: Path) -> None:
    """The latency of one sign-in and one refresh among SMALL people and, with
    BENCH_USERS, among that many: a second database and server, seeded, and
    both measured in turns."""
    sys.path.insert(0, str(idp_side.ROOT))
    from idp.config import load_settings
    from idp.passwords import Passwords

    stored = Passwords(load_settings(env)).hash(secrets.token_urlsafe(12))
    scale.seed(env["IDP_DATABASE_URL"], SMALL, stored)
    sides = {scale.size_name(SMALL): login.Endpoints(target.authorization_endpoint, target.token_endpoint)}
    if BENCH_USERS > SMALL:
        port, name = free_port(), f"{idp_side.DATABASE}_scale"
        big = {**env, "IDP_ISSUER": f"http://127.0.0.1:{port}",
               "IDP_DATABASE_URL": env["IDP_DATABASE_URL"].rsplit("/", 1)[0] + "/" + name}
        idp_side.prepare(big, name)
        seconds = scale.seed(big["IDP_DATABASE_URL"], BENCH_USERS, stored)
        log(f"seeded {BENCH_USERS} people in {seconds:.0f} s")
        (workdir / "scale").mkdir()
        idp_side.start(supervisor, port, big, workdir / "scale")
        meta = discover(big["IDP_ISSUER"])
        sides[scale.size_name(BENCH_USERS)] = login.Endpoints(meta["authorization_endpoint"], meta["token_endpoint"])
    for size, p50 in scale.interleaved(sides, scale.ROUNDS, scale.SAMPLES).items():
        figures.add(f"login_p50_ms_{size}", p50["login"])
        figures.add(f"refresh_p50_ms_{size}", p50["refresh"])
        log(f"{size} people: login p50 {p50['login']:.1f} ms, refresh p50 {p50['refresh']:.1f} ms")


# --- reporting --------------------------------------------------------------

def machine() -> str:
    model = "unknown CPU"
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    return f"{len(os.sched_getaffinity(0))} cores, {model}"


FORMATS = {"_rps": "{:.0f}", "_per_s": "{:.1f}", "_ms": "{:.1f}", "_us": "{:.0f}",
           "_mb": "{:.1f}"}


def fmt(name: str, value: float) -> str:
    if "_vs_" in name:
        return f"{value:.2f}"
    if "_ms_" in name:
        return f"{value:.1f}"
    for suffix, pattern in FORMATS.items():
        if name.endswith(suffix):
            return pattern.format(value)
    return f"{value:g}"


ORDER = [
    "token_cc_rps", "peer_token_cc_rps", "token_cc_vs_peer",
    "token_cc_p99_ms", "peer_token_cc_p99_ms",
    "token_cc_cpu_us", "peer_token_cc_cpu_us", "token_cc_db_cpu_us",
    "peer_token_cc_close_rps", "token_cc_vs_peer_close", "peer_token_cc_close_cpu_us",
    "discovery_rps", "peer_discovery_rps", "jwks_rps", "peer_jwks_rps",
    "login_roundtrips_per_s", "password_ceiling_per_s", "login_vs_ceiling",
    "login_cpu_ms", "argon2_verify_cpu_ms", "login_server_cpu_ms", "login_client_cpu_ms", "login_queries",
    "login_p50_ms_1k", "refresh_p50_ms_1k",
    *(f"{kind}_p50_ms_{scale.size_name(BENCH_USERS)}" for kind in ("login", "refresh") if BENCH_USERS > SMALL),
    *(f"{kind}_p50_1m_vs_1k" for kind in ("login", "refresh") if BENCH_USERS == 1_000_000),
    "worker_rss_mb", "peer_worker_rss_mb",
]


def report(figures: Figures, info: dict[str, str]) -> None:
    ours, peer = figures.median("token_cc_rps"), figures.median("peer_token_cc_rps")
    if ours and peer:
        figures.add("token_cc_vs_peer", ours / peer)
    logins, ceiling_rate = figures.median("login_roundtrips_per_s"), figures.median("password_ceiling_per_s")
    if logins and ceiling_rate:
        figures.add("login_vs_ceiling", logins / ceiling_rate)
    login_cpu, verify_cpu = figures.median("login_cpu_ms"), figures.median("argon2_verify_cpu_ms")
    if login_cpu is not None and verify_cpu is not None:
        figures.add("login_server_cpu_ms", login_cpu - verify_cpu)
    for kind in ("login", "refresh"):
        small, large = figures.median(f"{kind}_p50_ms_1k"), figures.median(f"{kind}_p50_ms_1m")
        if small and large:
            figures.add(f"{kind}_p50_1m_vs_1k", large / small)
    close = figures.median("peer_token_cc_close_rps")
    if ours and close:
        figures.add("token_cc_vs_peer_close", ours / close)
    for name, value in info.items():
        print(f"{name}: {value}")
    for name in ORDER:
        value = figures.median(name)
        if value is not None:
            print(f"{name}: {fmt(name, value)}")
    print(f"errors: {len(figures.errors)}")
    sys.stdout.flush()


# --- the run ----------------------------------------------------------------

def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="interleaved repetitions")
    parser.add_argument("--seconds", type=float, default=9, help="length of each token run")
    parser.add_argument("--peer-only", action="store_true",
                        help="load only the peer (checks the peer half on its own)")
    return parser.parse_args()


def on_alarm(signum: int, frame: object) -> None:
    raise Timeout("the run took longer than its budget")


def on_term(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def show_logs(supervisor: Supervisor) -> None:
    """Failed requests: the servers' own words are the first clue."""
    for server in supervisor.servers:
        log(f"last lines of the {server.name} log:\n{server.log_tail()}")


def bench(args: argparse.Namespace, supervisor: Supervisor, workdir: Path,
          figures: Figures, info: dict[str, str]) -> None:
    wrk = loadgen.ensure_wrk()
    info["machine"] = machine()
    # Anything else running shares the two cores and moves every figure.
    load = os.getloadavg()[0]
    info["load_average_at_start"] = f"{load:.2f}"
    if load > BUSY_LOAD:
        log(f"warning: load average {load:.2f} before we start: the machine is busy with other "
            "work, rates will be low and noisy (CPU per grant suffers least)")
    info["peer"] = f"oidc-provider {peer_side.ensure_installed()} on node " + \
        subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    info["load"] = (f"wrk {loadgen.THREADS} threads, {loadgen.CONNECTIONS} connections, "
                    f"{args.reps} x {args.seconds:g} s interleaved, medians")
    targets = []
    env = {}
    if not args.peer_only:
        info["ours"] = idp_side.stack()
        port = free_port()
        env = idp_side.environment(port, workdir)
        idp_side.prepare(env)
        ours = idp_side.start(supervisor, port, env, workdir)
        targets.append(describe("", ours, env["IDP_ISSUER"], idp_side.CLIENT_ID,
                                idp_side.CLIENT_SECRET))
    peer_port = free_port()
    peer = peer_side.start(supervisor, peer_port, workdir)
    targets.append(describe("peer_", peer, f"http://127.0.0.1:{peer_port}",
                            peer_side.CLIENT_ID, peer_side.CLIENT_SECRET))
    for target in targets:
        preflight(target)
    load_rounds(wrk, figures, targets, args.reps, args.seconds)
    if not args.peer_only:
        measure_logins(figures, targets[0])
        measure_queries(figures, env)
        measure_scale(figures, targets[0], env, supervisor, workdir)
    for target in targets:
        figures.add(f"{target.prefix}worker_rss_mb", worker_rss(target.server))
    supervisor.check_alive()
    if figures.errors:
        show_logs(supervisor)
    if not args.peer_only:
        supervisor.stop_all()  # the ceiling wants the cores to itself
        info["passwords"] = measure_ceiling(figures, env)


def main() -> int:
    args = parse_args()
    signal.signal(signal.SIGALRM, on_alarm)
    # Explicit, because a shell that starts us in the background ignores Ctrl-C
    # for us, and the servers must still be stopped when we are interrupted.
    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    signal.alarm(BUDGET_SECONDS + BENCH_USERS * SEED_SECONDS_PER_MILLION // 1_000_000)
    figures, info = Figures(), {}
    try:
        with tempfile.TemporaryDirectory(prefix="idp-bench-") as tmp, Supervisor() as sup:
            try:
                bench(args, sup, Path(tmp), figures, info)
            except (BenchError, Timeout):
                show_logs(sup)
                raise
    except (BenchError, Timeout) as exc:
        report(figures, info)
        print(f"bench: FAILED: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted; every process it started is stopped", file=sys.stderr)
        return 130
    finally:
        signal.alarm(0)
    report(figures, info)
    if figures.errors:
        print("bench: FAILED: requests failed under load:", file=sys.stderr)
        for error in figures.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
