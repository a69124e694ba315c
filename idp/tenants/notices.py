"""Notices to the people who answer for a tenant (its holder and admins) when
something that protects every member changes: the access route, two-step
verification, a password reset that cleared a second factor."""

from __future__ import annotations

from flask import render_template
from sqlalchemy import select

from .. import clock, db, notify
from ..mail import Mail
from ..models import Role, Tenant, User, UserStatus


def managers(tenant: Tenant) -> list[User]:
    """The holder and the admins who can still be reached (locked ones included:
    a notice matters most when someone else is at work)."""
    return list(
        db.session().scalars(
            select(User)
            .where(
                User.tenant_id == tenant.id,
                User.role.in_((Role.HOLDER, Role.ADMIN)),
                User.status.in_((UserStatus.ACTIVE, UserStatus.LOCKED)),
            )
            .order_by(User.email_key)
        )
    )


def tell_managers(tenant: Tenant, subject: str, template: str, **context: object) -> None:
    """Mail every manager after the response (``email/<template>.txt``, with
    ``name`` and ``tenant`` besides ``context``)."""
    for user in managers(tenant):
        body = render_template(f"email/{template}.txt", name=user.name or user.email, tenant=tenant, **context)
        notify.send_mail_after_response(Mail(to=user.email, subject=subject, body=body))


def tell_managers_of_change(
    tenant: Tenant, subject: str, template: str, actor: User | None, via: str, **context: object
) -> None:
    """A change to the contract's settings: what changed (``context``), when, by
    whom and which way, so that a change none of them made does not go unnoticed."""
    tell_managers(
        tenant,
        subject,
        template,
        at=clock.japan(clock.now(), "%Y-%m-%d %H:%M"),
        actor=actor.email if actor else None,
        via=via,
        **context,
    )
