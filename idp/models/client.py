"""Registered relying parties and machine clients."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, IdMixin


class Client(IdMixin, Base):
    __tablename__ = "clients"

    client_id: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # SHA-256 hex of a generated secret of 256 bits or more; None for public
    # clients and private_key_jwt.
    secret_hash: Mapped[str | None] = mapped_column(String(64))
    # After `idp client rotate-secret`: the secret before, accepted until then.
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64))
    previous_secret_expires_at: Mapped[datetime | None]
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(32), default="client_secret_basic")
    redirect_uris: Mapped[list[str]] = mapped_column(default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(default=list)
    grant_types: Mapped[list[str]] = mapped_column(default=list)
    scope: Mapped[str] = mapped_column(Text, default="openid")
    id_token_signed_response_alg: Mapped[str | None] = mapped_column(String(8))
    # Public keys for private_key_jwt (RFC 7523), as a JWK set.
    jwks: Mapped[dict[str, Any] | None]
    # Or where they are published (fetched and cached).
    jwks_uri: Mapped[str | None] = mapped_column(String(1000))
    tenant_id: Mapped[str | None] = mapped_column(String(36))

    @property
    def public(self) -> bool:
        return self.token_endpoint_auth_method == "none"
