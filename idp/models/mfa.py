"""Second factors: a user's enrolment (SMS phone or TOTP secret, recovery code)
and the SMS codes sent to them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, IdMixin


class MfaEnrolment(IdMixin, Base):
    """One per user. ``confirmed_at`` is set once the first code was entered;
    until then the enrolment is a draft that the next attempt replaces."""

    __tablename__ = "mfa_enrolments"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    method: Mapped[str] = mapped_column(String(8))  # "sms" or "totp"
    phone: Mapped[str | None] = mapped_column(String(20))
    # The TOTP secret must be read back to check codes, so it is encrypted
    # (Fernet, key derived from the secret key) rather than hashed.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    # Last accepted TOTP time step: a code is accepted only for a later step,
    # by a conditional UPDATE, so a code cannot be used twice even by racing requests.
    totp_last_step: Mapped[int] = mapped_column(default=0)
    # argon2id of the recovery code (salted and slow: it is typed, not generated per use).
    recovery_code_hash: Mapped[str | None] = mapped_column(String(255))
    confirmed_at: Mapped[datetime | None]
    # The registered line the factor was enrolled over, if any: such a factor, or
    # one older than the tenant's switch to line-only, may undo line-only from the internet.
    line_id: Mapped[str | None] = mapped_column(String(16))


class SmsCode(IdMixin, Base):
    """A 6-digit code sent by SMS: valid 10 minutes, 5 tries, used once."""

    __tablename__ = "sms_codes"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    phone: Mapped[str] = mapped_column(String(20))
    purpose: Mapped[str] = mapped_column(String(16))  # "enrol" or "login"
    # The pending sign-in the code was sent for: a code confirms only within it.
    flow_id: Mapped[str | None] = mapped_column(String(36))
    code_hash: Mapped[str] = mapped_column(String(64))
    tries: Mapped[int] = mapped_column(default=0)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
