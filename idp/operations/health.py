"""Liveness and readiness for a load balancer that asks every second.

``/readyz`` asks the database through a connection of its own (not the
requests' pool: a probe must neither wait behind busy requests for the pool's
5 s nor leave a setting on a pooled connection), with a 1 s bound on the
query, and checks that the key folder gives an active signing key.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from ..keys import KeyError_, KeyStore

log = logging.getLogger("idp.health")

TIMEOUT_SECONDS = 1


def probe_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        # mode=rw: a missing file is a database that is down, not a new empty one.
        uri = parsed.set(database=f"file:{parsed.database}?mode=rw", query={"uri": "true"})
        return create_engine(uri, poolclass=NullPool, connect_args={"timeout": TIMEOUT_SECONDS})
    # libpq waits at least 2 s for a connection (it rounds connect_timeout up);
    # the statement itself is bounded by the server.
    return create_engine(
        url,
        poolclass=NullPool,
        connect_args={"connect_timeout": 2, "options": f"-c statement_timeout={TIMEOUT_SECONDS * 1000}"},
    )


def database_answers(engine: Engine) -> bool:
    try:
        with engine.connect() as conn:
            # A table of ours, not SELECT 1: SQLite answers that without reading
            # the file, and a database without our schema is not ready either.
            conn.execute(text("SELECT 1 FROM alembic_version"))
    except SQLAlchemyError as e:
        log.warning("readiness: the database does not answer (%s)", e.__class__.__name__)
        return False
    return True


def keys_loaded(keys: KeyStore) -> bool:
    try:
        loaded = keys.current()
    except (KeyError_, OSError, ValueError) as e:
        log.warning("readiness: the signing keys cannot be loaded (%s)", e.__class__.__name__)
        return False
    if not loaded.active:
        log.warning("readiness: no active signing key")
        return False
    return True


def readiness(engine: Engine, keys: KeyStore) -> tuple[int, dict[str, Any]]:
    """The status and a small body naming each check and whether it passed."""
    checks = {"database": database_answers(engine), "keys": keys_loaded(keys)}
    ready = all(checks.values())
    body = {
        "status": "ready" if ready else "unavailable",
        "checks": {k: "ok" if v else "failed" for k, v in checks.items()},
    }
    return (200 if ready else 503), body
