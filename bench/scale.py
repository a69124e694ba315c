"""Many people: bulk seeding with COPY, and the latency of one sign-in and one
refresh at a given size (`login_p50_ms_<size>`, `refresh_p50_ms_<size>`).

The people are spread over tenants of 100 each; every one has a password
identity (the same argon2id hash: hashing a million passwords would take an
hour and tells nothing about lookups) and five audit events, dated over the
past 90 days. The demo users the load signs in with are among them like any
other, so their lookups go through the same indexes as a million people's.
"""

from __future__ import annotations

import secrets
import statistics
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import login
import psycopg
from psycopg import sql

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
        with _indexes_built_after(conn):
            _copy(conn, have, target, password_hash)
        conn.commit()
    with psycopg.connect(_dsn(database_url), autocommit=True) as conn:
        # As a database in service would be: statistics current, visibility maps set.
        conn.execute("VACUUM (ANALYZE)")
    return time.monotonic() - start


# What loading builds after rather than keeps up row by row: every index,
# key and foreign key, except the keys other tables' foreign keys need.
_BUILT_AFTER = {"users": "u", "login_identities": "puf", "audit_events": "puf"}


@contextmanager
def _indexes_built_after(conn: psycopg.Connection) -> Iterator[None]:
    """Drop indexes and constraints while rows are loaded and build them again
    after (PostgreSQL's "Populating a Database"): an index built by one sort, or
    a foreign key checked in one join, costs far less than a million inserts at
    random places in it, or a million lookups."""
    rebuild: list[sql.Composable] = []
    for table, kinds in _BUILT_AFTER.items():
        constraints = conn.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype = ANY(%s)", (table, list(kinds))
        ).fetchall()
        indexes = conn.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes AS i WHERE i.tablename = %s"
            " AND NOT EXISTS (SELECT FROM pg_constraint AS c WHERE c.conname = i.indexname)", (table,)
        ).fetchall()
        for name, definition in constraints:
            on, constraint = sql.Identifier(table), sql.Identifier(name)
            conn.execute(sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(on, constraint))
            rebuild.append(sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(on, constraint, sql.SQL(definition)))
        for name, definition in indexes:
            conn.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
            rebuild.append(sql.SQL(definition))
    yield
    conn.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for statement in rebuild:
        conn.execute(statement)


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
        with cur.copy(
            "COPY users (id, created_at, tenant_id, subject, email, email_key, email_verified, name, role,"
            " status, security_stamp) FROM STDIN"
        ) as copy:
            for n in range(first, last):
                user_id, tenant_id = str(uuid.uuid4()), tenants[(n - first) // PEOPLE_PER_TENANT]
                email = f"p{n}-{run}@bench.example"
                copy.write_row(
                    (user_id, now, tenant_id, secrets.token_urlsafe(16), email, email, True, f"Person {n}",
                     "user", "active", secrets.token_hex(16))
                )
        # Their identities and events are made by PostgreSQL from the people
        # just loaded: no rows cross the wire, and the bench's Python, which
        # shares the cores, makes none of them.
        params = {"now": now, "hash": password_hash, "events": list(EVENTS), "per_person": EVENTS_PER_PERSON,
                  "people": f"%-{run}@bench.example"}
        cur.execute(
            """INSERT INTO login_identities (id, created_at, user_id, kind, provider, subject, password_hash)
               SELECT gen_random_uuid()::text, %(now)s, id, 'password', '', id, %(hash)s
               FROM users WHERE email LIKE %(people)s""",
            params,
        )
        cur.execute(  # five events each, dated over the past 90 days
            """INSERT INTO audit_events (id, created_at, event, tenant_id, user_id, source_ip, detail)
               SELECT gen_random_uuid()::text,
                      %(now)s - make_interval(mins => (hashtext(users.id || e) & 2147483647) %% (90 * 24 * 60)),
                      (%(events)s::text[])[e], users.tenant_id, users.id, '192.0.2.1', '{"method": "pwd"}'::json
               FROM users, generate_series(1, %(per_person)s) AS e
               WHERE users.email LIKE %(people)s""",
            params,
        )


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
