"""Users and the ways they prove who they are (login identities)."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, IdMixin
from .tenant import Tenant


class Role(StrEnum):
    HOLDER = "holder"
    ADMIN = "admin"
    USER = "user"


class UserStatus(StrEnum):
    ACTIVE = "active"
    INVITED = "invited"
    LOCKED = "locked"
    DISABLED = "disabled"


class IdentityKind(StrEnum):
    PASSWORD = "password"
    UPSTREAM = "upstream"
    AD = "ad"


def new_subject() -> str:
    """``sub``: stable, opaque, never derived from the email (OIDC Core §8)."""
    return secrets.token_urlsafe(16)


class User(IdMixin, Base):
    __tablename__ = "users"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id"), index=True)
    subject: Mapped[str] = mapped_column(String(64), unique=True, default=new_subject)
    email: Mapped[str] = mapped_column(String(254))
    # Lower-cased email; unique so that two accounts never differ only by case.
    email_key: Mapped[str] = mapped_column(String(254), unique=True)
    email_verified: Mapped[bool] = mapped_column(default=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    role: Mapped[str] = mapped_column(String(16), default=Role.USER)
    status: Mapped[str] = mapped_column(String(16), default=UserStatus.ACTIVE)
    locked_at: Mapped[datetime | None]
    last_login_at: Mapped[datetime | None]
    # Changes whenever credentials change; links and sessions bound to an older
    # value die with it.
    security_stamp: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))

    tenant: Mapped[Tenant] = relationship(lazy="joined")
    identities: Mapped[list[LoginIdentity]] = relationship(back_populates="user", cascade="all, delete-orphan")

    @property
    def roles(self) -> list[str]:
        return [self.role]

    @property
    def active(self) -> bool:
        return self.status == UserStatus.ACTIVE

    @staticmethod
    def key_for(email: str) -> str:
        return email.strip().lower()


class LoginIdentity(IdMixin, Base):
    """One way to sign in: a password, an upstream account or an AD account."""

    __tablename__ = "login_identities"
    __table_args__ = (UniqueConstraint("kind", "provider", "subject"),)

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # For upstream and AD: which provider or connection, and the subject there.
    provider: Mapped[str] = mapped_column(String(64), default="")
    subject: Mapped[str] = mapped_column(String(255))
    password_hash: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User] = relationship(back_populates="identities")
