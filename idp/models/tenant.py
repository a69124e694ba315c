"""Tenants (契約): plan, two-step policy, access route and registered lines."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Base, IdMixin


class Plan(StrEnum):
    BASIC = "basic"
    TRIAL = "trial"


class AccessRoute(StrEnum):
    LINE_AND_INTERNET = "line+internet"
    LINE_ONLY = "line-only"


class Tenant(IdMixin, Base):
    __tablename__ = "tenants"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    plan: Mapped[str] = mapped_column(String(16), default=Plan.BASIC)
    mfa_enabled: Mapped[bool] = mapped_column(default=True)
    access_route: Mapped[str] = mapped_column(String(16), default=AccessRoute.LINE_AND_INTERNET)
    # "active" or "cancelled"; a trial past its end is "trial-ended" (idp/tenants/plans.py).
    status: Mapped[str] = mapped_column(String(16), default="active")
    # The end of a trial (created + tenants.trial_days); None on the basic plan.
    trial_ends_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # Contract details (契約情報) the holder keeps up to date.
    company_name: Mapped[str] = mapped_column(String(200), default="")
    contact_name: Mapped[str] = mapped_column(String(200), default="")
    contact_phone: Mapped[str] = mapped_column(String(32), default="")
    # When the tenant last became line-only: an internet sign-in may switch the
    # route back only with a second factor older than this (or enrolled over a line).
    line_only_since: Mapped[datetime | None]
    # Two-step verification as it was before line-only switched it off, restored
    # when the tenant admits the internet again.
    mfa_before_line_only: Mapped[bool | None]
    # A password reset keeps the second factor instead of clearing it (manual §6.2 clears it).
    reset_keeps_two_step: Mapped[bool] = mapped_column(default=False)

    lines: Mapped[list[TenantLine]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantLine.number"
    )


class TenantLine(IdMixin, Base):
    """A line number (回線番号) registered to a tenant: CAF… or COP…."""

    __tablename__ = "tenant_lines"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(16))

    tenant: Mapped[Tenant] = relationship(back_populates="lines")
