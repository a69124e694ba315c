"""The database drops every connection (a restart, a failover): a connection
that sat idle is checked before use, and one used a moment ago that turns out
dead costs one request the outage page, never a traceback, and the pool
connects anew for the next."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import make_url

from idp import db

from ..conftest import make_settings, seeded_app
from ..rp import DEMO_REDIRECT

pytestmark = pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)

BASIC = "Basic " + base64.b64encode(b"demo-rp:demo-rp-secret").decode()


@pytest.fixture
def app(database_url: str, tmp_path: Path) -> Iterator[Flask]:
    app = seeded_app(make_settings(database_url, tmp_path, "http://idp.test"))
    yield app
    app.extensions["idp.engine"].dispose()


def redeem_unknown_code(client: FlaskClient):  # type: ignore[no-untyped-def]
    """A request that reads the database: a code nobody issued is invalid_grant."""
    data = {"grant_type": "authorization_code", "code": "never-issued", "redirect_uri": DEMO_REDIRECT}
    return client.post("/token", data=data, headers={"Authorization": BASIC})


def drop_connections(database_url: str) -> int:
    url = make_url(database_url)
    server = f"postgresql://{url.username}@{url.host}:{url.port}/postgres"
    with psycopg.connect(server, autocommit=True) as conn:
        ended = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = %s", (url.database,)
        ).fetchone()
    return ended[0] if ended else 0


def test_an_idle_connection_is_checked_and_replaced(app: Flask, database_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert redeem_unknown_code(client).json["error"] == "invalid_grant"
    assert drop_connections(database_url) >= 1
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.0)  # as if it had waited in the pool
    answer = redeem_unknown_code(client)
    assert answer.status_code == 400 and answer.json["error"] == "invalid_grant"


def test_a_connection_dropped_a_moment_after_use_costs_one_request(app: Flask, database_url: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert redeem_unknown_code(client).json["error"] == "invalid_grant"
    assert drop_connections(database_url) >= 1
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 3600.0)
    failed = redeem_unknown_code(client)
    assert failed.status_code == 503 and failed.json["error"] == "temporarily_unavailable"
    assert "Traceback" not in failed.get_data(as_text=True)
    again = redeem_unknown_code(client)
    assert again.status_code == 400 and again.json["error"] == "invalid_grant"
