"""A user's second factor: draft, confirm, reset."""

from __future__ import annotations

from sqlalchemy import delete, select

from .. import clock, db
from ..models import MfaEnrolment, User
from . import recovery, totp


def of(user: User) -> MfaEnrolment | None:
    return db.session().scalar(select(MfaEnrolment).where(MfaEnrolment.user_id == user.id))


def confirmed(user: User) -> MfaEnrolment | None:
    enrolment = of(user)
    return enrolment if enrolment is not None and enrolment.confirmed_at is not None else None


def draft(user: User, method: str, phone: str | None = None) -> MfaEnrolment:
    """Start (or restart) enrolment; a confirmed enrolment is never replaced here."""
    enrolment = of(user)
    if enrolment is not None and enrolment.confirmed_at is not None:
        raise ValueError("already enrolled")
    if enrolment is None:
        enrolment = MfaEnrolment(user_id=user.id, method=method)
        db.session().add(enrolment)
    enrolment.method, enrolment.phone = method, phone
    if method == "totp" and not enrolment.totp_secret:
        enrolment.totp_secret = totp.seal_secret(totp.new_secret())
    db.session().flush()
    return enrolment


def confirm(enrolment: MfaEnrolment) -> str:
    """Mark the enrolment complete and return its first recovery code (shown once)."""
    enrolment.confirmed_at = clock.now()
    return recovery.set_new(enrolment)


def clear(user: User) -> None:
    """Forget the second factor entirely (password reset): the next login enrols again."""
    db.session().execute(delete(MfaEnrolment).where(MfaEnrolment.user_id == user.id))
