"""One-time links sent by mail: scoped to one purpose, valid 14 days, used once,
dead as soon as the user's credentials change (security stamp), and replaced
by the next link of the same purpose sent to the same user."""

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
    """Store a link for ``purpose`` and return its URL on the issuer's host; the
    user's earlier links for ``purpose`` stop working (only the latest mail counts)."""
    token, now = new_token(32), clock.now()
    db.session().execute(
        update(OneTimeLink)
        .where(
            OneTimeLink.user_id == user.id,
            OneTimeLink.purpose == purpose,
            OneTimeLink.used_at.is_(None),
            OneTimeLink.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session().add(
        OneTimeLink(
            token_hash=digest(token),
            purpose=purpose,
            user_id=user.id,
            security_stamp=user.security_stamp,
            data=data,
            expires_at=now + VALIDITY,
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
    found = peek_with_data(purpose, token)
    return found[0] if found else None


def peek_with_data(purpose: str, token: str | None) -> tuple[User, dict[str, Any]] | None:
    """The user a valid link is for and what it was sent with (``create``'s ``data``)."""
    if not token or len(token) > 128:
        return None
    row = db.session().scalar(select(OneTimeLink).where(OneTimeLink.token_hash == digest(token)))
    user = _valid(row, purpose)
    return (user, dict(row.data or {})) if user is not None and row is not None else None


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
