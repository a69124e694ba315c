"""A tenant's plan and where it stands (manual §0): a trial lasts
``tenants.trial_days``; after it ends its people cannot sign in, and its holder
may still change the plan to basic for ``tenants.plan_change_grace_days``;
then, or when a basic tenant cancels, the tenant is cancelled, and
``tenants.keep_cancelled_days`` later removed (``purge``)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from enum import StrEnum

from flask import current_app
from sqlalchemy import and_, delete, or_, select, update

from .. import audit, clock, db
from ..audit import record
from ..models import Grant, Plan, Tenant, User
from ..periodic import AtMostEvery
from . import notices

log = logging.getLogger("idp.tenants")


class Standing(StrEnum):
    ACTIVE = "active"
    TRIAL_ENDED = "trial-ended"
    CANCELLED = "cancelled"


def _settings():  # type: ignore[no-untyped-def]
    return current_app.extensions["idp.settings"]


def trial_end_for(start: datetime) -> datetime:
    return start + timedelta(days=_settings().trial_days)


def grace_days() -> int:
    return int(_settings().plan_change_grace_days)


def keep_days() -> int:
    return int(_settings().keep_cancelled_days)


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


# -- changing the plan, cancelling, removing what was cancelled --------------------

PLAN_SUBJECT = "【ワークストレージ】プラン変更のお知らせ"
CANCEL_SUBJECT = "【ワークストレージ】解約のお知らせ"
# The provider's own pass over the tenants (``purge_when_due``).
DAY = 24 * 3600.0


class PlanError(ValueError):
    """A plan change or cancellation the rules do not allow; the message says why."""


def change_plan(tenant: Tenant, plan: str, actor: User | None = None, via: str = "account_menu") -> None:
    """A trial becomes basic (manual §0 ※1): while it runs, and for the grace
    days after it ended. One conditional UPDATE: of two racing changes (or a
    change racing the trial's end), one wins and is audited and announced."""
    if plan != Plan.BASIC:
        raise PlanError(f"a trial can change to the basic plan only, not {plan!r}")
    if tenant.plan == Plan.BASIC:
        raise PlanError("the tenant is already on the basic plan")
    now = clock.now()
    before = standing(tenant, now)
    grace = timedelta(days=_settings().plan_change_grace_days)
    won = db.session().execute(
        update(Tenant)
        .where(
            Tenant.id == tenant.id,
            Tenant.plan == Plan.TRIAL,
            Tenant.status == Standing.ACTIVE,
            or_(Tenant.trial_ends_at.is_(None), Tenant.trial_ends_at > now - grace),
        )
        .values(plan=Plan.BASIC, trial_ends_at=None)
        .execution_options(synchronize_session=False)
    )
    db.session().refresh(tenant)
    if won.rowcount != 1:
        if tenant.plan == Plan.BASIC:
            raise PlanError("the tenant is already on the basic plan")
        raise PlanError(
            f"the trial ended more than {grace.days} days ago and the tenant is cancelled; it cannot change plan"
        )
    record(
        "tenant.plan_changed",
        user=actor,
        tenant_id=tenant.id,
        plan=Plan.BASIC,
        previous=Plan.TRIAL,
        standing=before,
        via=via,
    )
    _tell(tenant, PLAN_SUBJECT, "plan_changed", actor, via, trial_had_ended=before != Standing.ACTIVE)


def cancel(tenant: Tenant, actor: User | None = None, via: str = "account_menu") -> int:
    """Cancel a basic tenant (manual §0; a trial ends by itself, ※2). Every
    session, code and token of its people stops working at its next use
    (``admission.admits`` asks the standing there); their grants are revoked
    besides, so that no refresh token outlives the contract even if the
    standing were read wrongly. Returns how many grants were revoked."""
    if tenant.plan == Plan.TRIAL:
        raise PlanError("a trial cannot be cancelled; it ends by itself")
    now = clock.now()
    won = db.session().execute(
        update(Tenant)
        .where(Tenant.id == tenant.id, Tenant.plan == Plan.BASIC, Tenant.status == Standing.ACTIVE)
        .values(status=Standing.CANCELLED, cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    db.session().refresh(tenant)
    if won.rowcount != 1:
        raise PlanError("the tenant is already cancelled")
    revoked = db.session().execute(
        update(Grant)
        .where(Grant.revoked_at.is_(None), Grant.user_id.in_(select(User.id).where(User.tenant_id == tenant.id)))
        .values(revoked_at=now, revoked_reason="tenant_cancelled")
        .execution_options(synchronize_session=False)
    )
    record("tenant.cancelled", user=actor, tenant_id=tenant.id, via=via, grants_revoked=revoked.rowcount)
    _tell(tenant, CANCEL_SUBJECT, "tenant_cancelled", actor, via, removed_on=_jst(removal_date(tenant)))
    return revoked.rowcount


def removal_date(tenant: Tenant) -> datetime | None:
    """When ``purge`` removes the tenant: ``tenants.keep_cancelled_days`` after it
    was cancelled, a trial counting as cancelled from the end of its grace days."""
    keep = timedelta(days=_settings().keep_cancelled_days)
    if tenant.status == Standing.CANCELLED and tenant.cancelled_at is not None:
        return tenant.cancelled_at + keep
    ends = grace_end(tenant)
    return ends + keep if ends is not None else None


def purge(now: datetime | None = None) -> list[str]:
    """Remove the tenants cancelled more than ``tenants.keep_cancelled_days``
    ago, with their users and everything of theirs (the database cascades from
    the users: identities, factors, sessions, codes, grants, tokens, links);
    the audit log stays. Returns the names removed. Safe to run in several
    processes at once: each tenant is removed, and audited, by one of them."""
    now = now or clock.now()
    settings = _settings()
    gone_before = now - timedelta(days=settings.keep_cancelled_days)
    grace = timedelta(days=settings.plan_change_grace_days)
    removable = or_(
        and_(Tenant.status == Standing.CANCELLED, Tenant.cancelled_at < gone_before),
        and_(Tenant.status == Standing.ACTIVE, Tenant.plan == Plan.TRIAL, Tenant.trial_ends_at < gone_before - grace),
    )
    session, purged = db.session(), []
    for tenant_id, name in session.execute(select(Tenant.id, Tenant.name).where(removable)).all():
        session.execute(delete(User).where(User.tenant_id == tenant_id).execution_options(synchronize_session=False))
        removed = session.execute(
            delete(Tenant).where(Tenant.id == tenant_id, removable).execution_options(synchronize_session=False)
        )
        if removed.rowcount == 1:
            record("tenant.purged", tenant_id=tenant_id, name=name)
            purged.append(name)
    return purged


def purge_when_due() -> None:
    """before_request: the provider's own daily pass, like the key rotation
    schedule on the signing path (the same ``AtMostEvery``): at most once a day
    per process, on the request that finds it due, committed before that
    request's own work begins. A failed pass is logged and does not fail the
    request; the next one is a day later."""
    schedule: AtMostEvery = current_app.extensions["idp.purge_schedule"]
    if not schedule.due():
        return
    try:
        purged = purge()
        expired = audit.purge_expired()
        db.commit()
    except Exception:
        db.session().rollback()
        log.exception("the daily pass over the tenants failed; the next one is in a day")
        return
    if purged:
        log.info("tenants purged by the daily pass: %s", purged)
    if expired:
        log.info("audit events past their retention removed by the daily pass: %d", expired)


def _jst(moment: datetime | None) -> str:
    return clock.japan(moment, "%Y-%m-%d")


def _tell(tenant: Tenant, subject: str, template: str, actor: User | None, via: str, **context: object) -> None:
    notices.tell_managers_of_change(tenant, subject, template, actor, via, **context)
