"""Changing what a user signs in with: new password, reset of the second step."""

from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import select

from .. import audit, db
from ..auth import remember
from ..auth.login import password_identity, unlock
from ..mfa import enrolment
from ..models import Grant, IdentityKind, LoginIdentity, User
from ..oidc import store


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


def reset_password(user: User, password: str) -> None:
    """Manual §6.2: a reset unlocks the account and clears two-step verification
    (number, authenticator, recovery code, remembered browsers), so the next
    login enrols again. Tokens granted before are revoked: whoever held the
    old password may hold them."""
    set_password(user, password)
    unlock(user, "password_reset")
    enrolment.clear(user)
    remember.forget_all(user)
    for grant_id in db.session().scalars(select(Grant.id).where(Grant.user_id == user.id, Grant.revoked_at.is_(None))):
        store.revoke_grant(grant_id, "password_reset")
    audit.record("password.reset", user=user)
