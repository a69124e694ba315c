"""Password sign-in: the same answer and the same cost whether or not the email exists.

The steps, in order: a client address with too many recent failures waits
(behind the line gateway, the client it forwarded for; registered lines and
the company's own networks are exempt); the password is verified (against a
dummy hash for unknown emails, so the cost is the same); a line-only
tenant's staff off its registered lines get the line error whatever the
password (manual §1.4), so the answer tells nothing about it; a wrong
password counts, and the 10th consecutive failure locks the account and
mails an unlock link; only the right password of a locked account is told
it is locked, so a locked account answers a wrong password like an unknown
email; a success clears the count and rehashes an outdated hash.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from .. import audit, clock, db, notify
from ..account import messages
from ..models import IdentityKind, LoginIdentity, Role, User, UserStatus
from ..tenants import line_policy
from . import throttle


class Outcome(StrEnum):
    OK = "ok"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"
    THROTTLED = "throttled"
    LINE_REQUIRED = "line_required"


@dataclass
class SignIn:
    outcome: Outcome
    user: User | None = None


def find_user(email: str) -> User | None:
    if len(email) > 254:
        return None
    # One query: the person, their tenant and their ways to sign in.
    found = db.session().execute(
        select(User).where(User.email_key == User.key_for(email)).options(joinedload(User.identities))
    )
    return found.unique().scalar_one_or_none()


def password_identity(user: User | None) -> LoginIdentity | None:
    if user is None:
        return None
    return next((i for i in user.identities if i.kind == IdentityKind.PASSWORD), None)


def sign_in(email: str, password: str) -> SignIn:
    source = throttle.source()
    standing = throttle.standing(source, email)
    if standing.source_blocked:
        audit.record("login.throttled", method="pwd")
        return SignIn(Outcome.THROTTLED)
    passwords = current_app.extensions["idp.passwords"]
    user = find_user(email)
    identity = password_identity(user)
    ok = passwords.verify(identity.password_hash if identity else None, password)
    if user is not None and line_required(user):
        # Verified all the same, so that the cost does not tell either; and not
        # counted as a failure, since the answer does not depend on the password.
        audit.record("login.refused", user=user, method="pwd", reason="line_required")
        return SignIn(Outcome.LINE_REQUIRED, user)
    email_key = throttle.email_key(email)
    if not ok or user is None or identity is None:
        return count_failure(source, email_key, user, "bad_credentials")
    if user.status == UserStatus.LOCKED or standing.email_locked:
        audit.record("login.failure", user=user, method="pwd", reason="locked")
        return SignIn(Outcome.LOCKED)
    if not user.active:
        return count_failure(source, email_key, user, "inactive")
    if standing.email_failures:
        throttle.clear(email_key)
    if passwords.needs_rehash(identity.password_hash):
        identity.password_hash = passwords.hash(password)
    audit.record("login.success", user=user, method="pwd")
    return SignIn(Outcome.OK, user)


def line_required(user: User) -> bool:
    """Whether the user's tenant admits only registered lines and this request
    came over none of its own. Its holder goes on to the internet recovery
    sign-in after the password (manual §4.2). A registered line of the tenant
    is always admitted, so the policy is asked only without one (and then
    needs no query)."""
    if user.role == Role.HOLDER or line_policy.line_of_request(user) is not None:
        return False
    return not line_policy.allows(user.tenant, None)


def count_failure(
    source: throttle.Source, email_key: str, user: User | None, reason: str, method: str = "pwd"
) -> SignIn:
    """A wrong password (ours, or a directory's: ``method`` ``ldap``) counts for the
    source and the account, and the 10th in a row locks the account."""
    throttle.source_failed(source)
    failures = throttle.bump(email_key)
    audit.record("login.failure", user=user, method=method, reason=reason, consecutive=failures)
    if failures < throttle.LOCK_AFTER:
        return SignIn(Outcome.BAD_CREDENTIALS)
    if user is not None and lock(user):
        notify.send_mail_after_response(messages.unlock_mail(user))
    return SignIn(Outcome.LOCKED)


def lock(user: User) -> bool:
    """Lock an active account; False if it was not active (already locked by a racing request)."""
    won = (
        db.session()
        .execute(
            update(User)
            .where(User.id == user.id, User.status == UserStatus.ACTIVE)
            .values(status=UserStatus.LOCKED, locked_at=clock.now())
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )
    if won:
        audit.record("account.locked", user=user)
    return won == 1


def unlock(user: User, how: str) -> bool:
    """Unlock a locked account and forget its failures; True if it was locked.
    Only a real unlock is audited: a password reset calls this for every account."""
    won = (
        db.session()
        .execute(
            update(User)
            .where(User.id == user.id, User.status == UserStatus.LOCKED)
            .values(status=UserStatus.ACTIVE, locked_at=None)
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )
    throttle.clear(throttle.email_key(user.email))
    if won:
        audit.record("account.unlocked", user=user, via=how)
    return won == 1
