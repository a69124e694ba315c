"""Upgrading a database whose tenant is already line-only: the switch time comes
from its latest route change (or its creation), and two-step verification is
set to come back on when it leaves line-only."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import text

from idp import db, migrate

from .. import services

SWITCHED = datetime(2026, 5, 1, 9, 0, tzinfo=UTC)
CREATED = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path) -> Iterator:  # type: ignore[no-untyped-def]
    name = f"idp_migration_{os.getpid()}"
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path}/old.sqlite3"
    else:
        url = services.fresh_database(services.postgres_url(), name)
    engine = db.make_engine(url)
    yield engine
    engine.dispose()
    if request.param == "postgresql":
        services.drop_database(services.postgres_url(), name)


def _tenant(conn, tid: str, route: str) -> None:  # type: ignore[no-untyped-def]
    conn.execute(
        text(
            "INSERT INTO tenants (id, created_at, name, plan, mfa_enabled, access_route, status)"
            " VALUES (:id, :at, :id, 'basic', false, :route, 'active')"
        ),
        {"id": tid, "at": CREATED, "route": route},
    )


def test_line_only_tenants_get_their_switch_time(engine):
    migrate.upgrade(engine, "0001")
    with engine.begin() as conn:
        _tenant(conn, "switched", "line-only")
        _tenant(conn, "born-line-only", "line-only")
        _tenant(conn, "internet", "line+internet")
        conn.execute(
            text(
                "INSERT INTO audit_events (id, created_at, event, tenant_id, detail)"
                " VALUES ('e1', :at, 'tenant.access_route_changed', 'switched', '{}')"
            ),
            {"at": SWITCHED},
        )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT id, line_only_since, mfa_before_line_only, reset_keeps_two_step FROM tenants ORDER BY id")
        ).all()
    found = {row[0]: row[1:] for row in rows}

    def instant(value):  # type: ignore[no-untyped-def]
        value = datetime.fromisoformat(value) if isinstance(value, str) else value
        return value.replace(tzinfo=value.tzinfo or UTC)

    assert instant(found["switched"][0]) == SWITCHED
    assert instant(found["born-line-only"][0]) == CREATED
    assert found["internet"][0] is None
    assert bool(found["switched"][1]) and bool(found["born-line-only"][1])
    assert found["internet"][1] is None
    assert not any(bool(row[2]) for row in found.values())
