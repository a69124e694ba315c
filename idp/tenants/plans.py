"""A tenant's plan and where it stands (manual §0): a trial lasts
``tenants.trial_days``; after it ends its people cannot sign in, and its holder
may still change the plan to basic for ``tenants.plan_change_grace_days``;
then, or when a basic tenant cancels, the tenant is cancelled."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app

from .. import clock
from ..models import Plan, Tenant


class Standing(StrEnum):
    ACTIVE = "active"
    TRIAL_ENDED = "trial-ended"
    CANCELLED = "cancelled"


def _settings():  # type: ignore[no-untyped-def]
    return current_app.extensions["idp.settings"]


def trial_end_for(start: datetime) -> datetime:
    return start + timedelta(days=_settings().trial_days)


def grace_end(tenant: Tenant) -> datetime | None:
    """The last moment a trial that ended may still become basic."""
    if tenant.plan != Plan.TRIAL or tenant.trial_ends_at is None:
        return None
    return tenant.trial_ends_at + timedelta(days=_settings().plan_change_grace_days)


def standing(tenant: Tenant, now: datetime | None = None) -> Standing:
    now = now or clock.now()
    if tenant.status == Standing.CANCELLED:
        return Standing.CANCELLED
    if tenant.plan == Plan.TRIAL and tenant.trial_ends_at is not None and now >= tenant.trial_ends_at:
        ends = grace_end(tenant)
        return Standing.CANCELLED if ends is not None and now >= ends else Standing.TRIAL_ENDED
    return Standing.ACTIVE


def in_service(tenant: Tenant) -> bool:
    """Whether the tenant's people may sign in and use their tokens now."""
    return standing(tenant) == Standing.ACTIVE
