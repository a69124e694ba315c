"""Changing the method a person signs in with (manual §2.1 (1), §2.2 (1)).

Whatever the method, a change clears the second factor (manual §5.2: the next
sign-in enrols again), ends every session and every link sent before, and is
audited. The rules hold here, for every way in (the account menu, an admin's
mail, an upstream broker finishing a link):

- a method must be on offer to the person's tenant and role (idp/account/methods.py);
- the contract holder never chooses Active Directory;
- a Facebook account is never switched directly to another Facebook account:
  the person changes to another method first.

An upstream account or AD account is linked by the subject its broker
verified, never by an email. Choosing one here only remembers, in this
browser, whom the next sign-in there is for (``start_link``); the broker's
callback then calls ``complete_link`` with the subject it verified.
"""

from __future__ import annotations

import json
from datetime import timedelta
from enum import StrEnum
from typing import Any

from flask import session
from sqlalchemy.exc import IntegrityError

from .. import audit, db, notify, ratelimit, sealing
from ..hashing import new_token
from ..mfa import enrolment
from ..models import IdentityKind, LoginIdentity, Role, User, UserStatus
from . import links, messages, methods, signout
from .credentials import set_password

PURPOSE = "login_method"
AD = "ad"
FACEBOOK = "facebook"
# How long a chosen upstream waits for its sign-in to come back.
LINK_TTL = 15 * 60
_LINK_KEY = "method_link"


class Refusal(StrEnum):
    NOT_OFFERED = "not_offered"
    HOLDER_AD = "holder_ad"
    FACEBOOK_TO_FACEBOOK = "facebook_to_facebook"
    TAKEN = "taken"


class MethodRefused(Exception):
    def __init__(self, reason: Refusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


def choices(user: User) -> list[methods.Method]:
    """The methods the page lists for ``user`` (each with its ``data-provider``)."""
    return [m for m in methods.offered(user.tenant, user.role) if refusal(user, m.provider) is None]


def label(user: User, provider: str) -> str:
    found = next((m for m in methods.offered(user.tenant, user.role) if m.provider == provider), None)
    return str(found.label) if found else provider


def refusal(user: User, provider: str) -> Refusal | None:
    """Why ``user`` may not choose ``provider``, before any account is known."""
    if provider == AD and user.role == Role.HOLDER:
        return Refusal.HOLDER_AD  # manual §2.1 (1): ■ 契約者は、Active Directory アカウントは選択できません。
    if all(m.provider != provider for m in methods.offered(user.tenant, user.role)):
        return Refusal.NOT_OFFERED
    return None


def use_password(user: User, password: str) -> None:
    """Email and password becomes the method (a password the page checked against the rule)."""
    if reason := refusal(user, methods.PASSWORD.provider):
        raise MethodRefused(reason)
    kept = [i for i in user.identities if i.kind == IdentityKind.PASSWORD]
    _unlinked(user, kept)
    user.identities[:] = kept
    set_password(user, password)
    _changed(user, methods.PASSWORD.provider)


def link(user: User, provider: str, subject: str, kind: str = IdentityKind.UPSTREAM, method: str | None = None) -> None:
    """The account ``subject`` at ``provider`` (verified by its broker) becomes the
    method. ``method``: the choice it is when that is not ``provider`` itself
    (an AD account's provider is its connection id, its method ``ad``)."""
    method = method or provider
    linked = [i for i in user.identities if i.kind == kind and i.provider == provider]
    if method == FACEBOOK and any(i.subject != subject for i in linked):
        # Manual §2.1 (1): 登録済みの「Facebook アカウント」から異なる Facebook アカウントへは切り替えできません。
        raise MethodRefused(Refusal.FACEBOOK_TO_FACEBOOK)
    if reason := refusal(user, method):
        raise MethodRefused(reason)
    session_ = db.session()
    try:
        with session_.begin_nested():
            kept = next((i for i in linked if i.subject == subject), None)
            gone = [i for i in user.identities if i is not kept and i.kind != IdentityKind.PASSWORD]
            user.identities[:] = [kept or LoginIdentity(kind=kind, provider=provider, subject=subject)]
            session_.flush()
    except IntegrityError:
        raise MethodRefused(Refusal.TAKEN) from None  # that account signs someone else in
    for identity in gone:
        audit.record("account.upstream_unlinked", user=user, provider=identity.provider, subject=identity.subject)
    audit.record("account.upstream_linked", user=user, provider=provider, subject=subject, via="login_method")
    _changed(user, method)


def _unlinked(user: User, kept: list[LoginIdentity]) -> None:
    """Audit each upstream or AD account that no longer signs ``user`` in."""
    for gone in (i for i in user.identities if i not in kept and i.kind != IdentityKind.PASSWORD):
        audit.record("account.upstream_unlinked", user=user, provider=gone.provider, subject=gone.subject)


def _changed(user: User, provider: str) -> None:
    enrolment.clear(user)
    signout.everywhere(user, "login_method_changed")
    audit.record("account.login_method_changed", user=user, method=provider, two_step="cleared")


# -- an upstream chosen: its sign-in comes back to the broker ------------------------


def start_link(user: User, provider: str, ticket: str | None = None) -> str:
    """Remember in this browser's session that the next sign-in at ``provider`` is
    to become ``user``'s method, and return where that sign-in starts. ``ticket``
    is the mailed link the choice came through (used up only when the link is made)."""
    if reason := refusal(user, provider):
        raise MethodRefused(reason)
    nonce = new_token(16)
    pending = {
        "uid": user.id,
        "stamp": user.security_stamp,
        "provider": provider,
        "nonce": nonce,
        "ticket": ticket,
    }
    session[_LINK_KEY] = sealing.seal(_LINK_KEY, json.dumps(pending))
    return f"/login/{provider}?link={nonce}"


def complete_link(
    nonce: str,
    method: str,
    subject: str,
    kind: str = IdentityKind.UPSTREAM,
    provider: str | None = None,
    tenant_id: str | None = None,
) -> User | None:
    """For the broker's callback: link the account it verified to the user this
    browser chose ``method`` for. None if nothing fitting is waiting (another
    browser, too late, credentials changed since, or the mailed link was used
    meanwhile); MethodRefused if a rule forbids it. ``provider``: where the
    account is, when not ``method`` itself; ``tenant_id``: the only tenant whose
    people it may sign in (an AD connection's)."""
    pending = _pending_link(session.pop(_LINK_KEY, None), nonce, method)
    user = _link_user(pending)
    if user is None:
        return None
    if tenant_id is not None and user.tenant_id != tenant_id:
        raise MethodRefused(Refusal.NOT_OFFERED)
    if pending.get("ticket") and links.consume(PURPOSE, pending["ticket"]) is None:
        return None
    link(user, provider or method, subject, kind, method)
    return user


def linking(nonce: str, method: str) -> User | None:
    """The user this browser chose ``method`` for, still waiting (to show its pages)."""
    return _link_user(_pending_link(session.get(_LINK_KEY), nonce, method))


def _pending_link(sealed: str | None, nonce: str, method: str) -> dict[str, Any]:
    raw = sealing.unseal(_LINK_KEY, sealed, LINK_TTL)
    pending = json.loads(raw) if raw else {}
    if not pending or pending.get("nonce") != nonce or pending.get("provider") != method:
        return {}
    return pending


def _link_user(pending: dict[str, Any]) -> User | None:
    if not pending:
        return None
    user = db.session().get(User, pending["uid"])
    if user is None or user.security_stamp != pending["stamp"] or user.status != UserStatus.ACTIVE:
        return None
    return user


# -- an admin's mail (manual §2.2 (1)) ------------------------------------------------

MAILS_PER_HOUR = 5


def send_mail(user: User, actor: User) -> bool:
    """Mail ``user`` the link to choose a login method; False past a few an hour."""
    if not ratelimit.take(f"login-method-mail:{user.id}", MAILS_PER_HOUR, timedelta(hours=1)):
        return False
    notify.send_mail_after_response(messages.login_method_mail(user))
    audit.record("account.login_method_mail_sent", user=user, by=actor.id)
    return True
