"""Invitations and registration (manual §1.5).

The holder or an admin (or the operator, with ``idp user invite``) invites a
person by email; the person is a user with status INVITED, who cannot sign in,
and gets 「【コワークストレージ】利用者登録のご案内」 with one registration
link (valid 14 days, used once; inviting again replaces the link). The link's
page sets the login method; registering with a password makes the user ACTIVE.
The holder made by ``idp tenant create`` is invited the same way.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum

from flask import current_app, has_request_context
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from .. import audit, db, notify
from ..mail import Mail
from ..models import IdentityKind, LoginIdentity, Role, Tenant, User, UserStatus
from . import links, messages
from .credentials import set_password
from .login_method import MethodRefused
from .login_method import Refusal as LinkRefusal

PURPOSE = "invite"
ROLES = (Role.ADMIN, Role.USER)
# A plausible address: something, one @, a dotted domain; no spaces.
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
NAME_MAX = 200


class Refusal(StrEnum):
    EMAIL = "email"
    NAME = "name"
    ROLE = "role"
    TAKEN = "taken"
    NOT_INVITED = "not_invited"


class InviteRefused(ValueError):
    """Why an invitation was not sent (a ValueError, so a command says it in one line)."""

    def __init__(self, reason: Refusal) -> None:
        super().__init__(f"invitation refused: {reason}")
        self.reason = reason


def _checked(email: str, name: str, role: str) -> tuple[str, str]:
    email, name = email.strip(), name.strip()
    if len(email) > 254 or not EMAIL.fullmatch(email):
        raise InviteRefused(Refusal.EMAIL)
    if len(name) > NAME_MAX:
        raise InviteRefused(Refusal.NAME)
    if role not in ROLES:
        raise InviteRefused(Refusal.ROLE)
    return email, name


def invite(tenant: Tenant, email: str, name: str, role: str, actor: User | None, via: str) -> User:
    """Invite ``email`` to ``tenant`` as ``role`` (admin or user) and mail the link.

    Someone of the tenant still invited is invited again (new name and role,
    a new link that replaces the old one). An address in use anywhere else is
    refused: one address is one account."""
    email, name = _checked(email, name, role)
    session = db.session()
    user = session.scalar(select(User).where(User.email_key == User.key_for(email)))
    if user is None:
        user = User(tenant=tenant, email=email, email_key=User.key_for(email), status=UserStatus.INVITED)
        session.add(user)
    elif user.tenant_id != tenant.id or user.status != UserStatus.INVITED or user.role == Role.HOLDER:
        raise InviteRefused(Refusal.TAKEN)
    user.name, user.role = name, role
    session.flush()
    audit.record("user.invited", user=actor, tenant_id=tenant.id, email=user.email, role=role, via=via)
    send_invitation(user, actor)
    return user


def resend(user: User, actor: User | None, via: str) -> None:
    """The invitation again, with a new link (the old one stops working)."""
    if user.status != UserStatus.INVITED:
        raise InviteRefused(Refusal.NOT_INVITED)
    audit.record("user.invitation_resent", user=actor, tenant_id=user.tenant_id, email=user.email, via=via)
    send_invitation(user, actor)


def send_invitation(user: User, actor: User | None) -> None:
    """Mail the registration link; ``actor`` None is the operator. After the
    response (or, from a command, once its transaction commits)."""
    with _addressable():
        mail: Mail = messages.invitation_mail(user, actor.email if actor else None)
    notify.send_mail_after_response(mail)


@contextmanager
def _addressable() -> Iterator[None]:
    """A command has no request to build the link's address in: lend it one on the issuer."""
    if has_request_context():
        yield
        return
    with current_app.test_request_context(base_url=current_app.extensions["idp.settings"].issuer):
        yield


def invited_user(ticket: str | None) -> User | None:
    """The person a live invitation is for, without using it up (to show its pages)."""
    user = links.peek(PURPOSE, ticket)
    return user if user is not None and user.status == UserStatus.INVITED else None


def register_with_password(ticket: str | None, password: str) -> User | None:
    """Use the invitation and set the password: the user becomes ACTIVE. None if
    the link is no longer good. Two conditional UPDATEs (the link's use, then
    the user's status) decide, so that of racing uses exactly one registers."""
    user = _activated(ticket)
    if user is None:
        return None
    set_password(user, password)
    audit.record("user.registered", user=user, method="password")
    return user


def register_with_upstream(
    ticket: str | None,
    provider: str,
    subject: str,
    kind: str = IdentityKind.UPSTREAM,
    tenant_id: str | None = None,
) -> User | None:
    """Use the invitation and link the upstream or AD account its broker verified
    (manual §1.5). None if the link is no longer good; MethodRefused(TAKEN) if
    that account already signs someone in: the unique (kind, provider, subject)
    decides, and then nothing is used up. An AD account (its connection
    ``provider`` of ``tenant_id``) is for that tenant's people, never its holder."""
    invited = invited_user(ticket)
    if invited is not None and kind == IdentityKind.AD:
        if invited.role == Role.HOLDER:
            raise MethodRefused(LinkRefusal.HOLDER_AD)
        if invited.tenant_id != tenant_id:
            raise MethodRefused(LinkRefusal.NOT_OFFERED)
    session_ = db.session()
    try:
        with session_.begin_nested():
            user = _activated(ticket)
            if user is None:
                return None
            user.identities[:] = [LoginIdentity(kind=kind, provider=provider, subject=subject)]
            session_.flush()
    except IntegrityError:
        raise MethodRefused(LinkRefusal.TAKEN) from None
    audit.record("user.registered", user=user, method=provider)
    audit.record("account.upstream_linked", user=user, provider=provider, subject=subject, via="registration")
    return user


def _activated(ticket: str | None) -> User | None:
    user = invited_user(ticket)
    if user is None or links.consume(PURPOSE, ticket) is None:
        return None
    won = (
        db.session()
        .execute(
            update(User)
            .where(User.id == user.id, User.status == UserStatus.INVITED)
            .values(status=UserStatus.ACTIVE)
            .execution_options(synchronize_session=False)
        )
        .rowcount
    )
    if won != 1:
        return None
    user.status = UserStatus.ACTIVE
    return user
