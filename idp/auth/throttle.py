"""Counting failed sign-ins: the account lock (10 in a row) and the per-source throttle.

Counts live in the database (shared by every worker and node) and change
by conditional UPDATEs, so concurrent failures are all counted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.exc import IntegrityError

from .. import clock, db
from ..hashing import digest
from ..models import SignInFailures, User
from ..tenants import gateway

LOCK_AFTER = 10
# Password spraying tries few passwords on many accounts, so no account lock
# trips; a client address with security.source_failure_limit failures in the
# window must wait until the window ends.
SOURCE_WINDOW = timedelta(minutes=15)


def email_key(email: str) -> str:
    return "email:" + digest(User.key_for(email))


def _source_key(address: str | None) -> str:
    window = int(clock.now().timestamp() // SOURCE_WINDOW.total_seconds())
    return f"ip:{address or '-'}:{window}"


def count(key: str) -> int:
    return db.session().scalar(select(SignInFailures.count).where(SignInFailures.key == key)) or 0


def bump(key: str) -> int:
    """Add one failure under ``key`` and return the new count."""
    session, now = db.session(), clock.now()
    for _ in range(2):
        updated = session.execute(
            update(SignInFailures)
            .where(SignInFailures.key == key)
            .values(count=SignInFailures.count + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if updated:
            return count(key)
        try:
            with session.begin_nested():
                session.add(SignInFailures(key=key, count=1, updated_at=now))
            return 1
        except IntegrityError:
            continue  # another request inserted it first: update that row
    return count(key)


def clear(key: str) -> None:
    db.session().execute(delete(SignInFailures).where(SignInFailures.key == key))


@dataclass(frozen=True)
class Source:
    """The client address the per-source throttle counts failures for."""

    address: str | None
    exempt: bool
    limit: int


def source() -> Source:
    """This request's source. Behind the line gateway it is the client the gateway
    forwarded for, so one person's failures do not shut out everyone behind it.
    Requests over a registered line and from security.trusted_networks are
    exempt: the gateway and the company's own networks carry many people, and
    the account lock still applies to each of them."""
    settings = current_app.extensions["idp.settings"]
    where = gateway.origin()
    exempt = where.registered_line is not None or gateway.within(where.client, settings.trusted_networks)
    return Source(where.client, exempt, settings.source_failure_limit)


@dataclass(frozen=True)
class Standing:
    """Both counters that decide a password sign-in, read in one query."""

    source: Source
    source_failures: int
    email_failures: int

    @property
    def source_blocked(self) -> bool:
        return not self.source.exempt and self.source_failures >= self.source.limit

    @property
    def email_locked(self) -> bool:
        return self.email_failures >= LOCK_AFTER


_FAILURES = SignInFailures.__table__.c
_COUNTS = select(_FAILURES.key, _FAILURES.count).where(_FAILURES.key.in_(bindparam("keys", expanding=True)))


def standing(source: Source, email: str) -> Standing:
    keys = {email_key(email): "email"}
    if not source.exempt:
        keys[_source_key(source.address)] = "source"
    rows = db.run(_COUNTS, {"keys": list(keys)})
    found = {keys[key]: n for key, n in rows}
    return Standing(source, found.get("source", 0), found.get("email", 0))


def source_failed(source: Source) -> None:
    if not source.exempt:
        bump(_source_key(source.address))
