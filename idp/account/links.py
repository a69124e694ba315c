"""One-time links sent by mail: scoped to one purpose, valid 14 days, used once,
and dead as soon as the user's credentials change (security stamp)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from flask import current_app, url_for
from sqlalchemy import select, update

from .. import clock, db
from ..hashing import digest, new_token
from ..models import OneTimeLink, User

VALIDITY = timedelta(days=14)


def create(purpose: str, user: User, endpoint: str, **data: Any) -> str:
    """Store a link for ``purpose`` and return its URL on the issuer's host."""
    token = new_token(32)
    db.session().add(
        OneTimeLink(
            token_hash=digest(token),
            purpose=purpose,
            user_id=user.id,
            security_stamp=user.security_stamp,
            data=data,
            expires_at=clock.now() + VALIDITY,
        )
    )
    issuer = current_app.extensions["idp.settings"].issuer
    return issuer + url_for(endpoint, ticket=token)


def _valid(row: OneTimeLink | None, purpose: str) -> User | None:
    if row is None or row.purpose != purpose or row.used_at is not None or row.expires_at <= clock.now():
        return None
    user = db.session().get(User, row.user_id) if row.user_id else None
    if user is None or user.security_stamp != row.security_stamp:
        return None
    return user


def peek(purpose: str, token: str | None) -> User | None:
    """The user a valid link is for, without using it (to show its form)."""
    if not token or len(token) > 128:
        return None
    row = db.session().scalar(select(OneTimeLink).where(OneTimeLink.token_hash == digest(token)))
    return _valid(row, purpose)


def consume(purpose: str, token: str | None) -> User | None:
    """Use the link: one conditional UPDATE, so of two racing uses exactly one wins."""
    user = peek(purpose, token)
    if user is None:
        return None
    won = (
        db.session()
        .execute(
            update(OneTimeLink)
            .where(OneTimeLink.token_hash == digest(token or ""), OneTimeLink.used_at.is_(None))
            .values(used_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )
    return user if won == 1 else None
