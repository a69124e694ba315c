"""Many people: bulk seeding with COPY, and the latency of one sign-in and one
refresh at a given size (`login_p50_ms_<size>`, `refresh_p50_ms_<size>`).

The people are spread over tenants of 100 each; every one has a password
identity (the same argon2id hash: hashing a million passwords would take an
hour and tells nothing about lookups) and five audit events, dated over the
past 90 days. The demo users the load signs in with are among them like any
other, so their lookups go through the same indexes as a million people's.
"""

from __future__ import annotations

import json
import secrets
import statistics
import time
import uuid
from datetime import UTC, datetime, timedelta

import login
import psycopg

PEOPLE_PER_TENANT = 100
EVENTS_PER_PERSON = 5
ROUNDS = 4
SAMPLES = 25  # per round and side: 100 in all; a p50 of fewer moves by several ms from run to run
EVENTS = ("login.success", "login.failure", "session.ended", "token.refreshed", "account.password_changed")


def size_name(people: int) -> str:
    if people >= 1_000_000 and people % 1_000_000 == 0:
        return f"{people // 1_000_000}m"
    if people >= 1000 and people % 1000 == 0:
        return f"{people // 1000}k"
    return str(people)


def _dsn(database_url: str) -> str:
    return database_url.replace("postgresql+psycopg://", "postgresql://")


def people(database_url: str) -> int:
    with psycopg.connect(_dsn(database_url)) as conn:
        return conn.execute("SELECT count(*) FROM users").fetchone()[0]


def seed(database_url: str, target: int, password_hash: str) -> float:
    """Add people (and their tenants and audit events) until there are ``target``;
    the seconds it took."""
    start = time.monotonic()
    with psycopg.connect(_dsn(database_url)) as conn:
        have = conn.execute("SELECT count(*) FROM users").fetchone()[0]
        if have >= target:
            return 0.0
        _copy(conn, have, target, password_hash)
        conn.commit()
    with psycopg.connect(_dsn(database_url), autocommit=True) as conn:
        # As a database in service would be: statistics current, visibility maps set.
        conn.execute("VACUUM (ANALYZE)")
    return time.monotonic() - start


def _copy(conn: psycopg.Connection, first: int, last: int, password_hash: str) -> None:
    now = datetime.now(UTC)
    run = secrets.token_hex(3)  # names stay unique when seeding again on top
    tenants: list[str] = []
    with conn.cursor() as cur:
        with cur.copy(
            "COPY tenants (id, created_at, name, plan, mfa_enabled, access_route, status, company_name,"
            " contact_name, contact_phone, reset_keeps_two_step) FROM STDIN"
        ) as copy:
            for t in range(first // PEOPLE_PER_TENANT, (last + PEOPLE_PER_TENANT - 1) // PEOPLE_PER_TENANT):
                tenant_id = str(uuid.uuid4())
                tenants.append(tenant_id)
                copy.write_row(
                    (tenant_id, now, f"bench-{run}-{t}", "basic", False, "line+internet", "active", "", "", "", False)
                )
        users: list[tuple[str, str]] = []
        with cur.copy(
            "COPY users (id, created_at, tenant_id, subject, email, email_key, email_verified, name, role,"
            " status, security_stamp) FROM STDIN"
        ) as copy:
            for n in range(first, last):
                user_id, tenant_id = str(uuid.uuid4()), tenants[(n - first) // PEOPLE_PER_TENANT]
                email = f"p{n}-{run}@bench.example"
                users.append((user_id, tenant_id))
                copy.write_row(
                    (user_id, now, tenant_id, secrets.token_urlsafe(16), email, email, True, f"Person {n}",
                     "user", "active", secrets.token_hex(16))
                )
        with cur.copy(
            "COPY login_identities (id, created_at, user_id, kind, provider, subject, password_hash) FROM STDIN"
        ) as copy:
            for user_id, _ in users:
                copy.write_row((str(uuid.uuid4()), now, user_id, "password", "", user_id, password_hash))
        with cur.copy(
            "COPY audit_events (id, created_at, event, tenant_id, user_id, source_ip, detail) FROM STDIN"
        ) as copy:
            detail = json.dumps({"method": "pwd"})
            for i, (user_id, tenant_id) in enumerate(users):
                for e in range(EVENTS_PER_PERSON):
                    when = now - timedelta(minutes=(i * 7 + e * 131) % (90 * 24 * 60))
                    copy.write_row((str(uuid.uuid4()), when, EVENTS[e], tenant_id, user_id, "192.0.2.1", detail))


def login_times(endpoints: login.Endpoints, samples: int) -> list[float]:
    """One person signing in at a time: each round trip's wall time, in ms."""
    login.roundtrip(endpoints)  # warm
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        login.roundtrip(endpoints)
        times.append((time.perf_counter() - start) * 1000)
    return times


def refresh_times(endpoints: login.Endpoints, samples: int) -> list[float]:
    """One refresh at a time (each one rotates the token): each one's wall time, in ms."""
    token = login.roundtrip(endpoints, scope="openid offline_access")["refresh_token"]
    times = []
    for _ in range(samples + 1):
        start = time.perf_counter()
        token = login.refresh(endpoints, token)["refresh_token"]
        times.append((time.perf_counter() - start) * 1000)
    return times[1:]


def interleaved(sides: dict[str, login.Endpoints], rounds: int, samples: int) -> dict[str, dict[str, float]]:
    """p50s of sign-ins and refreshes on each side, measured in turns so that
    a slow moment of the machine falls on every side alike."""
    times: dict[str, dict[str, list[float]]] = {name: {"login": [], "refresh": []} for name in sides}
    for _ in range(rounds):
        for name, endpoints in sides.items():
            times[name]["login"] += login_times(endpoints, samples)
            times[name]["refresh"] += refresh_times(endpoints, samples)
    return {name: {kind: statistics.median(values) for kind, values in kinds.items()} for name, kinds in times.items()}
