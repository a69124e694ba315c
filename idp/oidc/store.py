"""Storage of codes, grants and refresh tokens.

Everything used once is consumed by one conditional UPDATE (``... WHERE
used_at IS NULL``): the database, not Python, decides which of two racing
requests wins. A second use of a code or of a rotated refresh token revokes
the whole grant (RFC 9700 §4.14.2, OAuth 2.0 Security BCP for refresh tokens;
RFC 6749 §4.1.2 for codes).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, bindparam, delete, select, update

from .. import clock, db
from ..auth.proof import Proof
from ..hashing import digest
from ..models import AuthorizationCode, Grant, RefreshToken, User, UserStatus
from ..models.base import new_id
from ..tenants import admission


def save_code(
    code: str,
    *,
    client_id: str,
    redirect_uri: str,
    scope: str,
    nonce: str | None,
    code_challenge: str | None,
    code_challenge_method: str | None,
    proof: Proof,
    ttl: int,
) -> None:
    db.add_row(
        AuthorizationCode,
        code_hash=digest(code),
        client_id=client_id,
        user_id=proof.user.id,
        browser_session_id=proof.session_id,
        redirect_uri=redirect_uri,
        scope=scope,
        nonce=nonce,
        code_challenge=code_challenge,
        code_challenge_method=code_challenge_method,
        auth_time=proof.auth_time,
        amr=proof.amr,
        line_id=proof.line_id,
        expires_at=clock.now() + timedelta(seconds=ttl),
    )


_CODES = AuthorizationCode.__table__.c
# What the token endpoint reads of a redeemed code.
_REDEEMED = (
    "user_id",
    "browser_session_id",
    "redirect_uri",
    "scope",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "auth_time",
    "amr",
    "line_id",
    "grant_id",
)
_NOW = bindparam("now", type_=_CODES.used_at.type)
_REDEEM = (
    update(AuthorizationCode.__table__)
    .where(
        _CODES.code_hash == bindparam("hash"),
        _CODES.client_id == bindparam("client"),
        _CODES.used_at.is_(None),
        _CODES.expires_at > _NOW,
    )
    .values(used_at=_NOW, grant_id=bindparam("grant"))
    .returning(*(_CODES[name] for name in _REDEEMED))
)


def redeem_code(code: str, client_id: str) -> Row[Any] | None:
    """Mark the code used if it is unused, unexpired and the client's, naming the
    grant it is about to produce; else None. One statement on success, returning
    the code's columns rather than an ORM object: nothing changes it after.

    A code presented again after its first use revokes what it produced.
    """
    session, now, code_hash = db.session(), clock.now(), digest(code)
    won = db.run(_REDEEM, {"hash": code_hash, "client": client_id, "now": now, "grant": new_id()}).one_or_none()
    if won is not None:
        return won
    replayed = session.scalar(
        select(AuthorizationCode.grant_id).where(
            AuthorizationCode.code_hash == code_hash, AuthorizationCode.used_at.is_not(None)
        )
    )
    if replayed:
        revoke_grant(replayed, "code_replay")
    return None


def create_grant(proof: Proof, client_id: str, scope: str, grant_id: str) -> None:
    db.add_row(
        Grant,
        id=grant_id,
        client_id=client_id,
        user_id=proof.user.id,
        browser_session_id=proof.session_id,
        scope=scope,
        auth_time=proof.auth_time,
        amr=proof.amr,
        line_id=proof.line_id,
    )


def save_refresh_token(token: str, grant_id: str, ttl: int, grant_ends_at: datetime) -> None:
    """A refresh token lives ``ttl`` seconds, and never past the end of its
    grant's absolute lifetime, however often it was rotated: the spend and
    the introspection of a token then both follow that end."""
    db.add_row(
        RefreshToken,
        token_hash=digest(token),
        grant_id=grant_id,
        expires_at=min(clock.now() + timedelta(seconds=ttl), grant_ends_at),
    )


def grant_ends_at(proof: Proof, absolute_days: int) -> datetime:
    """The end of a grant's refresh tokens: ``tokens.refresh_absolute_days``
    after the sign-in that began it, offline_access grants included."""
    return proof.auth_time + timedelta(days=absolute_days)


def find_refresh_token(token: str, client_id: str) -> tuple[RefreshToken, Grant] | None:
    """The refresh token and its unrevoked grant, if ``client_id``'s; nothing is
    spent yet. Another client presenting it neither spends nor revokes it: it
    proves only that the other client holds a string it should not have."""
    session = db.session()
    row = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == digest(token)))
    if row is None:
        return None
    grant = session.get(Grant, row.grant_id)
    if grant is None or grant.client_id != client_id or grant.revoked_at is not None:
        return None
    return row, grant


def spend_refresh_token(row: RefreshToken, grant: Grant) -> bool:
    """Mark the token used if it is unused and unexpired; a token used before
    revokes its grant (reuse detection, RFC 9700 §4.14.2)."""
    session, now = db.session(), clock.now()
    won = session.execute(
        update(RefreshToken)
        .where(
            RefreshToken.id == row.id,
            RefreshToken.used_at.is_(None),
            RefreshToken.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if won == 1:
        return True
    session.refresh(row)
    if row.used_at is not None:
        revoke_grant(grant.id, "refresh_reuse")
    return False


def revoke_grant(grant_id: str, reason: str) -> bool:
    result = db.session().execute(
        update(Grant)
        .where(Grant.id == grant_id, Grant.revoked_at.is_(None))
        .values(revoked_at=clock.now(), revoked_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def end_client(client_id: str, reason: str) -> int:
    """Revoke every grant of a client and drop its codes; the number of grants
    revoked. Their access and refresh tokens fail at their next use."""
    session = db.session()
    session.execute(
        delete(AuthorizationCode)
        .where(AuthorizationCode.client_id == client_id)
        .execution_options(synchronize_session=False)
    )
    return session.execute(
        update(Grant)
        .where(Grant.client_id == client_id, Grant.revoked_at.is_(None))
        .values(revoked_at=clock.now(), revoked_reason=reason)
        .execution_options(synchronize_session=False)
    ).rowcount


def active_user(user_id: str) -> User | None:
    user = db.session().get(User, user_id)
    return user if user is not None and user.status == UserStatus.ACTIVE else None


def live_grant(grant_id: str) -> tuple[Grant, User] | None:
    """The grant and its user if neither is revoked, locked or disabled."""
    row = (
        db.session()
        .execute(select(Grant, User).join(User, User.id == Grant.user_id).where(Grant.id == grant_id))
        .first()
    )
    if row is None:
        return None
    grant, user = row
    if grant.revoked_at is not None or user.status != UserStatus.ACTIVE:
        return None
    if not admission.admits(user, grant.line_id):
        return None  # the tenant is out of service, or now admits only registered lines and this grant has none
    return grant, user


def proof_of(grant: Grant, user: User) -> Proof:
    return Proof(
        user=user,
        auth_time=grant.auth_time or grant.created_at,
        amr=list(grant.amr),
        line_id=grant.line_id,
        session_id=grant.browser_session_id,
        grant_id=grant.id,
    )
