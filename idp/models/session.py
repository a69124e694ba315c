"""Browser sessions at the provider and remembered browsers."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, IdMixin
from .user import User


class BrowserSession(IdMixin, Base):
    """A signed-in browser. The cookie holds a random token; only its digest is stored.

    ``amr`` lists the methods completed (kratos-style), from which the tokens'
    ``amr`` and ``auth_time`` are derived.
    """

    __tablename__ = "browser_sessions"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    auth_time: Mapped[datetime]
    amr: Mapped[list[str]] = mapped_column(default=list)
    line_id: Mapped[str | None] = mapped_column(String(16))
    security_stamp: Mapped[str] = mapped_column(String(32))
    last_seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    # When the password was last given again for a sensitive setting.
    reauthenticated_at: Mapped[datetime | None]

    user: Mapped[User] = relationship(lazy="joined")


class RememberedBrowser(IdMixin, Base):
    """ "Remember this browser": skips the second step for 30 days of use."""

    __tablename__ = "remembered_browsers"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    last_used_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
