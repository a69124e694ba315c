"""A user's second factor: recorded once proven, read, cleared.

Nothing is written while a factor is being set up: the authenticator secret or
the phone number waits in the pending sign-in that showed or reached it
(idp/mfa/views.py), so only that sign-in can confirm it. Rows left
unconfirmed by earlier versions count as no factor and give way here.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from .. import clock, db
from ..models import MfaEnrolment, User
from . import recovery, totp


def confirmed(user: User) -> MfaEnrolment | None:
    return db.session().scalar(
        select(MfaEnrolment).where(MfaEnrolment.user_id == user.id, MfaEnrolment.confirmed_at.is_not(None))
    )


def enrol(
    user: User,
    method: str,
    *,
    phone: str | None = None,
    totp_secret: str | None = None,
    totp_step: int = 0,
    line_id: str | None = None,
) -> str | None:
    """Record the factor just proven and return its first recovery code (shown once).

    ``totp_step`` is the step of the code that proved the authenticator: it is
    used, and no earlier one is accepted later. ``line_id`` is the registered
    line of the sign-in, if any. None if the user has a factor already: of two
    racing confirmations, the unique ``user_id`` lets exactly one insert."""
    session = db.session()
    session.execute(delete(MfaEnrolment).where(MfaEnrolment.user_id == user.id, MfaEnrolment.confirmed_at.is_(None)))
    row = MfaEnrolment(
        user_id=user.id,
        method=method,
        phone=phone,
        totp_secret=totp.seal_secret(totp_secret) if totp_secret else None,
        totp_last_step=totp_step,
        confirmed_at=clock.now(),
        line_id=line_id,
    )
    code = recovery.set_new(row)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return code


def replace(
    user: User,
    previous: MfaEnrolment,
    method: str,
    *,
    recovery_hash: str | None = None,
    phone: str | None = None,
    totp_secret: str | None = None,
    totp_step: int = 0,
    line_id: str | None = None,
) -> str | None:
    """Put a new factor in place of ``previous``, the one just proven (manual §5.2:
    a new phone or authenticator), and return the new recovery code.

    The old row goes by one conditional DELETE: only if it is still the factor
    that was proven and, when it was proven by its recovery code, still has
    that code (``recovery_hash``). So a recovery code proves one change, and of
    two racing changes exactly one wins; None for the other."""
    condition = [MfaEnrolment.id == previous.id, MfaEnrolment.user_id == user.id]
    if recovery_hash is not None:
        condition.append(MfaEnrolment.recovery_code_hash == recovery_hash)
    session = db.session()
    gone = session.execute(delete(MfaEnrolment).where(*condition).execution_options(synchronize_session=False))
    if gone.rowcount != 1:
        return None
    return enrol(user, method, phone=phone, totp_secret=totp_secret, totp_step=totp_step, line_id=line_id)


def clear(user: User) -> None:
    """Forget the second factor entirely (password reset, a new email address or login
    method): the next login enrols again."""
    db.session().execute(delete(MfaEnrolment).where(MfaEnrolment.user_id == user.id))
