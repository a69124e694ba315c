"""Engine and the one session of each request.

Plain SQLAlchemy 2 (no Flask-SQLAlchemy): one engine per application, one
session per request in ``g``, committed once when the view returns, so a
request that fails half way leaves nothing behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g
from sqlalchemy import Executable, Insert, Table, create_engine, event, exc, insert, make_url
from sqlalchemy.engine import CursorResult, Engine
from sqlalchemy.orm import Session, sessionmaker

from . import private_files


def _private_sqlite_file(url: str) -> None:
    """Create the SQLite file 0600 (in a 0700 folder if the folder is new)
    before SQLite does with the umask's mode; its -wal and -shm files take
    the database file's mode."""
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:" or parsed.query.get("uri"):
        return
    private_files.touch(Path(database))


def make_engine(url: str) -> Engine:
    # hide_parameters: a database error's text, which reaches the log, names the
    # statement but not its values (emails, digests, sealed secrets).
    if url.startswith("sqlite"):
        _private_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, hide_parameters=True)

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    engine = create_engine(url, pool_size=5, max_overflow=5, pool_timeout=5, hide_parameters=True)
    _ping_when_idle(engine)
    return engine


# A connection given back less than this long ago is handed out without a ping.
IDLE_BEFORE_PING = 5.0


def _ping_when_idle(engine: Engine) -> None:
    """SQLAlchemy's pool_pre_ping, for connections that sat idle only.

    pre_ping costs a round trip to the database on every checkout, that is on
    every request that touches it, three of a sign-in's four. A connection that
    answered a moment ago is as good as proven. One the database dropped within
    that moment (a restart) fails its statement instead; SQLAlchemy then
    discards the whole pool, and that request gets the outage page."""

    @event.listens_for(engine, "connect")
    @event.listens_for(engine, "checkin")
    def _proven(_dbapi_conn, record) -> None:  # type: ignore[no-untyped-def]
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_conn, record, _proxy) -> None:  # type: ignore[no-untyped-def]
        idle_since = record.info.get("idle_since")
        if idle_since is not None and time.monotonic() - idle_since < IDLE_BEFORE_PING:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except engine.dialect.loaded_dbapi.Error as e:
            raise exc.DisconnectionError() from e  # the pool connects anew and checks out again


def init_app(app: Flask, url: str) -> None:
    engine = make_engine(url)
    app.extensions["idp.engine"] = engine
    app.extensions["idp.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)
    app.teardown_appcontext(_close_session)


def engine() -> Engine:
    return current_app.extensions["idp.engine"]


def session() -> Session:
    """The request's session, opened on first use."""
    if "db" not in g:
        g.db = current_app.extensions["idp.sessionmaker"]()
    return g.db


def add_row(model: type, **values: Any) -> None:
    """One INSERT of a row the request will not read back or change: an event, a
    code, a grant, a token, a session. Sent at once, without the ORM's unit of
    work, which cost more than the statement itself."""
    run(_insert_into(model.__table__), values)  # type: ignore[attr-defined]


def run(statement: Executable, params: dict[str, Any] | None = None) -> CursorResult[Any]:
    """A Core statement, built once by the caller, on the request's connection
    and in its transaction, past the ORM session's own execute, which costs
    more than a short statement itself. The rows the session holds changed go
    first, as its autoflush would send them (a row may refer to them)."""
    request_session = session()
    request_session.flush()
    return request_session.connection().execute(statement, params)


@cache
def _insert_into(table: Table) -> Insert:
    return insert(table)


def commit() -> None:
    if "db" in g:
        g.db.commit()


def _close_session(exc: BaseException | None) -> None:
    db = g.pop("db", None)
    if db is not None:
        if exc is not None:
            db.rollback()
        db.close()


@contextmanager
def transaction(app: Flask) -> Iterator[Session]:
    """A session for work outside a request (commands, background steps)."""
    with app.extensions["idp.sessionmaker"]() as db, db.begin():
        yield db
