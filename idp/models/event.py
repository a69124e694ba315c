"""Audit events: who did what, from where, when."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, IdMixin


class AuditEvent(IdMixin, Base):
    __tablename__ = "audit_events"
    # The admin console's listing: a tenant's events newest first (idp/admin/events.py).
    __table_args__ = (Index("ix_audit_events_tenant_listing", "tenant_id", "created_at", "id"),)

    event: Mapped[str] = mapped_column(String(64), index=True)
    tenant_id: Mapped[str | None] = mapped_column(String(36))
    user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    client_id: Mapped[str | None] = mapped_column(String(100))
    source_ip: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)
