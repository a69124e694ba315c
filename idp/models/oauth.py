"""Authorization codes, grants (token families) and refresh tokens.

Codes and refresh tokens are stored as SHA-256 digests; using one is a single
conditional UPDATE so that two racing requests cannot both win.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, IdMixin


class AuthorizationCode(IdMixin, Base):
    __tablename__ = "authorization_codes"

    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str] = mapped_column(String(100), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    browser_session_id: Mapped[str | None] = mapped_column(String(36))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(Text)
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    auth_time: Mapped[datetime]
    amr: Mapped[list[str]] = mapped_column(default=list)
    line_id: Mapped[str | None] = mapped_column(String(16))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    # The grant created by the first redemption; a replay revokes it.
    grant_id: Mapped[str | None] = mapped_column(String(36))


class Grant(IdMixin, Base):
    """Everything issued from one authorization (or one client-credentials call
    that has no refresh token is not recorded). Revoking it revokes its access
    and refresh tokens at once."""

    __tablename__ = "grants"

    client_id: Mapped[str] = mapped_column(String(100), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    browser_session_id: Mapped[str | None] = mapped_column(String(36), index=True)
    scope: Mapped[str] = mapped_column(Text)
    auth_time: Mapped[datetime | None]
    amr: Mapped[list[str]] = mapped_column(default=list)
    line_id: Mapped[str | None] = mapped_column(String(16))
    revoked_at: Mapped[datetime | None]
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(IdMixin, Base):
    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("grants.id", ondelete="CASCADE"), index=True)
    expires_at: Mapped[datetime]
    # Set when exchanged for a new one; presenting it again is reuse.
    used_at: Mapped[datetime | None]


class RevokedJti(Base):
    """A JWT id refused until ``expires_at``: access tokens revoked outside a grant
    (client credentials, RFC 7009) and client assertions already used (RFC 7523 §3)."""

    __tablename__ = "revoked_jtis"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime]
