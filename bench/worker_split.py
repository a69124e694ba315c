"""Where a sign-in's server CPU goes, measured inside the gunicorn workers.

`login_server_cpu_ms` (run.py) is the workers' CPU per roundtrip minus one
bare argon2id verify from the ceiling run, whose four processes contend for
two cores. This splits the same login load from inside instead: every worker
records the thread CPU of each request by method and path, of the argon2id
verify within it, and of psycopg's waits on the database; what /proc shows
for the master and workers beyond that is gunicorn's own work (accepting,
parsing, writing, closing) and the master's.

    .venv/bin/python bench/worker_split.py [--seconds 15]

It prepares the bench's database like `make bench` does (do not run both at
once). As a gunicorn entry point (`worker_split:app`, bench/ on PYTHONPATH,
SPLIT_DIR set) it is the provider's application with the recording around it.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from login import Totals

VERIFY = "argon2id verify"
DATABASE = "psycopg waiting on the database"
DUMP_WAIT = 5.0


def _recording_app():  # type: ignore[no-untyped-def]
    """The provider's WSGI app, recording thread CPU by request, verify and database wait."""
    import psycopg

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    import wsgi
    from idp.passwords import Passwords

    spent: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    def timed(name_of, call):  # type: ignore[no-untyped-def]
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            started = time.thread_time()
            try:
                return call(*args, **kwargs)
            finally:
                entry = spent[name_of(args)]
                entry[0] += 1
                entry[1] += time.thread_time() - started
        return wrapper

    Passwords.verify = timed(lambda _: VERIFY, Passwords.verify)
    psycopg.Connection.wait = timed(lambda _: DATABASE, psycopg.Connection.wait)

    def dump(*_: object) -> None:
        path = Path(os.environ["SPLIT_DIR"]) / f"{os.getpid()}.json"
        path.with_suffix(".tmp").write_text(json.dumps(spent))
        path.with_suffix(".tmp").replace(path)

    def answered(environ, start_response):  # type: ignore[no-untyped-def]
        # The whole answer within the timing: the body, and the close that
        # writes the request's log line and counts it.
        body = wsgi.app(environ, start_response)
        try:
            return list(body)
        finally:
            if hasattr(body, "close"):
                body.close()

    signal.signal(signal.SIGUSR2, dump)
    return timed(lambda args: f"{args[0]['REQUEST_METHOD']} {args[0]['PATH_INFO']}", answered)


if os.environ.get("SPLIT_DIR"):  # imported by a gunicorn worker
    app = _recording_app()


def collect(workers: list[int], folder: Path) -> dict[str, list[float]]:
    """Every worker's records so far, added up."""
    for old in folder.glob("*.json"):
        old.unlink()
    for pid in workers:
        os.kill(pid, signal.SIGUSR2)
    deadline = time.monotonic() + DUMP_WAIT
    while len(list(folder.glob("*.json"))) < len(workers) and time.monotonic() < deadline:
        time.sleep(0.05)
    total: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    for path in folder.glob("*.json"):
        for name, (count, seconds) in json.loads(path.read_text()).items():
            total[name][0] += count
            total[name][1] += seconds
    return total


def postgres_seconds() -> float:
    """CPU of every PostgreSQL process on the machine: backends, WAL writer and the rest."""
    from procs import cpu_seconds

    total = 0.0
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and (entry / "comm").read_text().strip() == "postgres":
                total += cpu_seconds(int(entry.name))
        except (OSError, ValueError):
            pass  # gone meanwhile
    return total


def report(before: dict, after: dict, server_seconds: float, postgres: float, totals: Totals) -> None:
    roundtrips = totals.roundtrips

    def ms(name: str) -> float:
        return (after[name][1] - before.get(name, [0, 0.0])[1]) * 1000 / roundtrips

    requests = sorted(n for n in after if n not in (VERIFY, DATABASE) and after[n] != before.get(n))
    server = server_seconds * 1000 / roundtrips
    outside = server - sum(ms(n) for n in requests)
    print(f"roundtrips: {roundtrips} ({totals.per_second:.1f}/s)")
    print(f"server CPU per roundtrip: {server:.2f} ms, of which")
    print(f"  {VERIFY}: {ms(VERIFY):.2f} ms")
    for name in requests:
        apart = " apart from its verify" if name == "POST /login" else ""
        print(f"  {name}{apart}: {ms(name) - (ms(VERIFY) if apart else 0):.2f} ms")
    print(f"  gunicorn and its master, outside the application: {outside:.2f} ms "
          f"({outside / len(requests):.2f} per request)")
    trips = (after[DATABASE][0] - before.get(DATABASE, [0])[0]) / roundtrips
    print(f"within the requests, {DATABASE}: {ms(DATABASE):.2f} ms ({trips:.0f} round trips)")
    cores = os.cpu_count() or 1
    print(f"besides the server, per roundtrip: PostgreSQL {postgres * 1000 / roundtrips:.2f} ms, "
          f"the load generator {totals.client_cpu_seconds * 1000 / roundtrips:.2f} ms; "
          f"the {cores} cores had {cores * totals.seconds * 1000 / roundtrips:.2f} ms")


def main() -> None:
    import idp_side
    import login
    from procs import Supervisor, children, free_port, log, sample_cpu

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="idp-split-") as tmp, Supervisor() as supervisor:
        workdir, port = Path(tmp), free_port()
        folder = workdir / "split"
        folder.mkdir()
        env = idp_side.environment(port, workdir)
        idp_side.prepare(env)
        env = {**env, "SPLIT_DIR": str(folder), "PYTHONPATH": str(Path(__file__).resolve().parent)}
        server = idp_side.start(supervisor, port, env, workdir, app="worker_split:app")
        issuer = env["IDP_ISSUER"]
        endpoints = login.Endpoints(f"{issuer}/authorize", f"{issuer}/token")
        login.drive(endpoints, 2, 3)  # every worker warm, every statement prepared
        log(f"login roundtrips: {idp_side.WORKERS} processes for {args.seconds:g} s")
        workers = children(server.pid)
        before, cpu_before, pg_before = collect(workers, folder), sample_cpu(server.pid), postgres_seconds()
        totals = login.drive(endpoints, idp_side.WORKERS, args.seconds)
        cpu_after, pg_after, after = sample_cpu(server.pid), postgres_seconds(), collect(workers, folder)
        if totals.errors or cpu_after.pids != cpu_before.pids:
            sys.exit(f"worker_split: {totals.errors} roundtrips failed ({totals.first_error}),"
                     " or the workers changed; no split")
        report(before, after, cpu_after.seconds - cpu_before.seconds, pg_after - pg_before, totals)


if __name__ == "__main__":
    main()
