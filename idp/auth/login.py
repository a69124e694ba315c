"""Password sign-in: the same answer and the same cost whether or not the email exists."""

from __future__ import annotations

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit, db
from ..models import IdentityKind, LoginIdentity, User


def find_user(email: str) -> User | None:
    return db.session().scalar(
        select(User).where(User.email_key == User.key_for(email)).options(selectinload(User.identities))
    )


def password_identity(user: User | None) -> LoginIdentity | None:
    if user is None:
        return None
    return next((i for i in user.identities if i.kind == IdentityKind.PASSWORD), None)


def check_password(email: str, password: str) -> User | None:
    """The user if the password is right and the account may sign in, else None.

    One argon2id verification happens in every case (a dummy hash for unknown
    emails), so neither the answer nor its timing tells whether the email exists.
    """
    passwords = current_app.extensions["idp.passwords"]
    user = find_user(email) if len(email) <= 254 else None
    identity = password_identity(user)
    ok = passwords.verify(identity.password_hash if identity else None, password)
    if not ok or user is None or identity is None or not user.active:
        reason = "inactive" if ok and user is not None else "bad_credentials"
        audit.record("login.failure", user=user, method="pwd", reason=reason)
        return None
    if passwords.needs_rehash(identity.password_hash):
        identity.password_hash = passwords.hash(password)
    audit.record("login.success", user=user, method="pwd")
    return user
