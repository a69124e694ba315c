"""/healthz and /readyz under real gunicorn, as a load balancer sees them: ready,
the database gone, the signing keys gone, and back."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import requests
from sqlalchemy import make_url

from ..served import Served, gunicorn

TIMEOUT = 10


@pytest.fixture
def served(database_url: str, tmp_path: Path, key_template: Path) -> Iterator[Served]:
    with gunicorn(database_url, tmp_path, key_template) as server:
        yield server


def probe(served: Served, path: str, method: str = "GET", **kwargs: object) -> requests.Response:
    return requests.request(method, served.live.url + path, timeout=TIMEOUT, allow_redirects=False, **kwargs)


@contextmanager
def database_down(database_url: str) -> Iterator[None]:
    """The database stops answering: PostgreSQL refuses connections to it (and
    drops the open ones); SQLite's file is gone. Restored afterwards."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = Path(url.database or "")
        path.rename(path.with_suffix(".away"))
        try:
            yield
        finally:
            path.with_suffix(".away").rename(path)
        return
    admin = url.set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{url.database}" WITH ALLOW_CONNECTIONS false')
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (url.database,))
        try:
            yield
        finally:
            conn.execute(f'ALTER DATABASE "{url.database}" WITH ALLOW_CONNECTIONS true')


def test_both_answer_200_when_ready(served):
    health = probe(served, "/healthz")
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = probe(served, "/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "keys": "ok"}}
    for answer in (health, ready):
        assert answer.headers["Cache-Control"] == "no-store"
        assert "Set-Cookie" not in answer.headers  # no session is opened for a probe
        assert answer.headers["Content-Type"] == "application/json"


def test_probes_answer_a_head_and_refuse_other_methods_without_the_pages(served):
    """A balancer may send HEAD; a POST (even with a JSON body, which pages refuse
    as not a form) gets a plain 405, no CSRF or form page, no cookie."""
    head = probe(served, "/healthz", "HEAD")
    assert head.status_code == 200 and head.content == b""
    for path in ("/healthz", "/readyz"):
        posted = probe(served, path, "POST", json={"x": 1})
        assert posted.status_code == 405 and posted.headers["Allow"] == "GET, HEAD"
        assert "Set-Cookie" not in posted.headers and posted.headers["Content-Type"] == "application/json"


def test_readyz_is_503_while_the_database_is_down_and_healthz_stays_200(served, database_url):
    with database_down(database_url):
        ready = probe(served, "/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "checks": {"database": "failed", "keys": "ok"}}
        assert ready.headers["Cache-Control"] == "no-store"
        assert probe(served, "/healthz").status_code == 200  # the process still serves
    assert probe(served, "/readyz").status_code == 200
    assert "readiness: the database does not answer" in served.log_text()


def test_readyz_is_503_without_signing_keys(served):
    keyset = served.live.settings.keys_dir / "keyset.json"
    keyset.rename(keyset.with_suffix(".away"))
    try:
        ready = probe(served, "/readyz")
        assert ready.status_code == 503
        assert ready.json() == {"status": "unavailable", "checks": {"database": "ok", "keys": "failed"}}
    finally:
        keyset.with_suffix(".away").rename(keyset)
    assert probe(served, "/readyz").status_code == 200
