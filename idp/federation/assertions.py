"""SAML assertions accepted once (SAML Profiles §4.1.4.5): an assertion id is
kept in ``saml_assertions_seen`` until its NotOnOrAfter (plus the skew) and
refused again meanwhile, on every worker and node, since they share the
database; the primary key decides between two racing uses."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError

from .. import clock, db
from ..hashing import digest
from ..models import SeenAssertion


def use_once(issuer: str, assertion_id: str, not_on_or_after: datetime) -> bool:
    """True the first time the issuer's ``assertion_id`` is used, False ever after
    while it could still be accepted."""
    session, now = db.session(), clock.now()
    session.execute(delete(SeenAssertion).where(SeenAssertion.expires_at < now))
    skew = timedelta(seconds=current_app.extensions["idp.settings"].saml_skew)
    try:
        with session.begin_nested():
            key = digest(f"{issuer}\n{assertion_id}")
            session.add(SeenAssertion(key=key, expires_at=not_on_or_after + skew))
    except IntegrityError:
        return False
    return True
