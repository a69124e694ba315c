"""Changing what a user signs in with: new password, reset of the second step."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import current_app
from sqlalchemy import select

from .. import audit, db, notify, ratelimit
from ..auth import remember
from ..auth.login import find_user, password_identity, unlock
from ..mfa import enrolment
from ..models import Grant, IdentityKind, LoginIdentity, User, UserStatus
from ..oidc import store
from . import messages

RESET_MAILS_PER_HOUR = 3


def set_password(user: User, password: str) -> None:
    """Store a new password; a new security stamp ends the user's other sessions
    and every link sent before."""
    hashed = current_app.extensions["idp.passwords"].hash(password)
    identity = password_identity(user)
    if identity is None:
        user.identities.append(LoginIdentity(kind=IdentityKind.PASSWORD, subject=user.id, password_hash=hashed))
    else:
        identity.password_hash = hashed
    user.security_stamp = secrets.token_hex(16)


def revoke_grants(user: User, reason: str) -> None:
    """End every grant of ``user`` (its refresh tokens, and the access tokens
    issued from it at their next check): whoever held the old password may hold them."""
    for grant_id in db.session().scalars(select(Grant.id).where(Grant.user_id == user.id, Grant.revoked_at.is_(None))):
        store.revoke_grant(grant_id, reason)


def change_password(user: User, password: str) -> None:
    """Manual §3: the signed-in person's new password. Sessions, links and
    grants from before end (the new security stamp, revoked grants); the
    person is told by mail, in case someone else did it."""
    set_password(user, password)
    revoke_grants(user, "password_changed")
    audit.record("password.changed", user=user)
    notify.send_mail_after_response(messages.password_changed_mail(user))


def request_reset(email: str) -> None:
    """Mail a reset link to an account that signs in with a password (manual
    §6.2), at most three an hour, counted by the database so that racing
    requests cannot pass together. Runs after the response (notify.after_response):
    the page does the same work whatever the email."""
    user = find_user(email)
    eligible = (
        user is not None
        and password_identity(user) is not None
        and user.status in (UserStatus.ACTIVE, UserStatus.LOCKED)
    )
    sent = False
    if user is not None and eligible:
        sent = ratelimit.take(f"reset-mail:{user.id}", RESET_MAILS_PER_HOUR, timedelta(hours=1))
        if sent:
            notify.send_mail_after_response(messages.reset_mail(user))
    audit.record("password.reset_requested", user=user if eligible else None, sent=sent)


def reset_password(user: User, password: str) -> bool:
    """Manual §6.2: a reset unlocks the account and clears two-step verification
    (number, authenticator, recovery code), so the next login enrols again,
    unless the tenant keeps it (Tenant.reset_keeps_two_step). A mailbox alone
    then takes over the account, so a cleared factor is announced to its phone
    and to the tenant's holder and admins. Remembered browsers and tokens
    granted before end either way: whoever held the old password may hold
    them. True if the second step was kept."""
    set_password(user, password)
    unlock(user, "password_reset")
    kept = user.tenant.reset_keeps_two_step
    cleared = None if kept else enrolment.confirmed(user)
    if not kept:
        enrolment.clear(user)
    remember.forget_all(user)
    revoke_grants(user, "password_reset")
    audit.record("password.reset", user=user, two_step="kept" if kept else "cleared" if cleared else "none")
    if cleared is not None:
        messages.tell_of_cleared_two_step(user, cleared.phone if cleared.method == "sms" else None)
    return kept
