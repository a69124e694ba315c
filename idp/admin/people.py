"""The tenant's people as the admin console sees and changes them (manual §2.2).

Every function takes the acting holder or admin and works only within that
person's tenant; every change is audited naming who made it. The holder is
never changed here, and nobody changes their own account here."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from .. import audit, db, notify
from ..account import messages, methods
from ..account import registration as invitations
from ..auth import remember
from ..mfa import enrolment
from ..models import Grant, MfaEnrolment, Role, Tenant, User, UserStatus
from ..oidc import store

PAGE_SIZE = 20
VIA = "admin_console"


class Refusal(StrEnum):
    HOLDER = "holder"  # the contract holder's account is not managed here
    SELF = "self"  # nor one's own
    ROLE = "role"  # only admin and user
    STATE = "state"  # not possible in the account's present state


class Refused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Person:
    """One row of the user list, one user's detail."""

    user: User
    method: str  # provider of the login method, "" before registration
    two_step: bool
    last_login_at: datetime | None


@dataclass(frozen=True)
class Listing:
    people: list[Person]
    page: int
    pages: int
    total: int


def find(tenant: Tenant, user_id: str) -> User | None:
    """The tenant's user ``user_id``; None for anyone else's, so that no page
    tells one tenant's staff whether another's id exists."""
    if len(user_id) > 64:
        return None
    return db.session().scalar(
        select(User).where(User.id == user_id, User.tenant_id == tenant.id).options(selectinload(User.identities))
    )


def _matching(tenant: Tenant, query: str):  # type: ignore[no-untyped-def]
    condition = User.tenant_id == tenant.id
    words = query.strip().lower()
    if words:
        condition = condition & or_(
            User.email_key.contains(words, autoescape=True),
            func.lower(User.name).contains(words, autoescape=True),
        )
    return condition


def listing(tenant: Tenant, query: str = "", page: int = 1) -> Listing:
    """The tenant's users whose email or name contains ``query``, a page at a time."""
    condition = _matching(tenant, query)
    total = db.session().scalar(select(func.count()).select_from(User).where(condition)) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(max(page, 1), pages)
    users = list(
        db.session().scalars(
            select(User)
            .where(condition)
            .options(selectinload(User.identities))
            .order_by(User.email_key)
            .offset((page - 1) * PAGE_SIZE)
            .limit(PAGE_SIZE)
        )
    )
    enrolled = _enrolled({u.id for u in users})
    return Listing([_person(u, u.id in enrolled) for u in users], page, pages, total)


def _enrolled(user_ids: set[str]) -> set[str]:
    if not user_ids:
        return set()
    rows = db.session().scalars(
        select(MfaEnrolment.user_id).where(MfaEnrolment.user_id.in_(user_ids), MfaEnrolment.confirmed_at.is_not(None))
    )
    return set(rows)


def _person(user: User, two_step: bool) -> Person:
    method = "" if user.status == UserStatus.INVITED and not user.identities else methods.current(user)
    return Person(user, method, two_step, user.last_login_at)


def person(user: User) -> Person:
    return _person(user, enrolment.confirmed(user) is not None)


def manageable(actor: User, target: User) -> bool:
    """Whether ``actor`` may change ``target`` here at all."""
    return target.tenant_id == actor.tenant_id and target.role != Role.HOLDER and target.id != actor.id


def _check(actor: User, target: User) -> None:
    if target.role == Role.HOLDER:
        raise Refused(Refusal.HOLDER)
    if target.id == actor.id:
        raise Refused(Refusal.SELF)
    if target.tenant_id != actor.tenant_id:  # find() already keeps tenants apart
        raise LookupError("no such user")


def _record(event: str, actor: User, target: User, **detail: object) -> None:
    audit.record(event, user=actor, target=target.email, target_id=target.id, via=VIA, **detail)


def change_role(actor: User, target: User, role: str) -> None:
    """admin ↔ user. Takes effect at the next page: the console asks the role every time."""
    _check(actor, target)
    if role not in (Role.ADMIN, Role.USER):
        raise Refused(Refusal.ROLE)
    if role == target.role:
        return
    before, target.role = target.role, role
    _record("user.role_changed", actor, target, before=before, after=role)


def deactivate(actor: User, target: User) -> None:
    """利用停止: the account cannot sign in, and its sessions, remembered
    browsers and tokens stop working at their next use. They are ended, not
    only refused, so that reactivating does not bring them back."""
    _check(actor, target)
    if target.status == UserStatus.DISABLED:
        raise Refused(Refusal.STATE)
    before = target.status
    target.status = UserStatus.DISABLED
    target.security_stamp = secrets.token_hex(16)  # ends sessions and mailed links
    remember.forget_all(target)
    for grant_id in db.session().scalars(
        select(Grant.id).where(Grant.user_id == target.id, Grant.revoked_at.is_(None))
    ):
        store.revoke_grant(grant_id, "user_disabled")
    _record("user.disabled", actor, target, before=before)


def reactivate(actor: User, target: User) -> None:
    """Back in use: active once registered; someone who never registered is
    invited again (the old link died with the deactivation: send a new one)."""
    _check(actor, target)
    if target.status != UserStatus.DISABLED:
        raise Refused(Refusal.STATE)
    target.status = UserStatus.ACTIVE if target.identities else UserStatus.INVITED
    target.locked_at = None
    _record("user.reactivated", actor, target, status=target.status)


def reset_two_step(actor: User, target: User) -> None:
    """Manual §5.2: forget the second factor (and remembered browsers, which
    skip it), so the next sign-in registers one again; the user is told by mail."""
    _check(actor, target)
    if enrolment.confirmed(target) is None:
        raise Refused(Refusal.STATE)
    enrolment.clear(target)
    remember.forget_all(target)
    _record("user.two_step_reset", actor, target)
    notify.send_mail_after_response(messages.two_step_cleared_mail(target))


def resend_invitation(actor: User, target: User) -> None:
    _check(actor, target)
    try:
        invitations.resend(target, actor, VIA)
    except invitations.InviteRefused:
        raise Refused(Refusal.STATE) from None
