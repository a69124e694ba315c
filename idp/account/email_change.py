"""Changing the email address a person signs in with (manual §2.1 (2), §2.2 (2)).

The request mails one link to the new address (14 days, once; the newest
request replaces older ones); opening it completes the change. A person who
signs in with a password sets a new one there. Then the address changes, the
second factor is cleared (the next sign-in enrols again), every session and
every earlier link ends, and the old address is told.

Whether an address belongs to someone else is never said: the request
answers alike and mails the link all the same, and at confirmation an address
in use fails exactly like an expired or used link. The database's unique
email key decides between racing confirmations."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from sqlalchemy.exc import IntegrityError

from .. import audit, db, notify, ratelimit
from ..auth.login import find_user
from ..mfa import enrolment
from ..models import User, UserStatus
from . import links, messages, methods, signout
from .credentials import set_password

PURPOSE = "email_change"
MAILS_PER_HOUR = 5
MAX_LENGTH = 254
# One @, something before it, a dot in the domain, no spaces: the mailbox itself
# proves the rest when its link is opened.
ADDRESS = re.compile(r"[^@\s]+@[^@\s.]+(\.[^@\s.]+)+")


class Refusal(StrEnum):
    INVALID = "invalid"
    MISMATCH = "mismatch"
    SAME = "same"
    TOO_MANY = "too_many"


def normalize(raw: str) -> str | None:
    """An address as typed (full-width forms folded), or None if it cannot be one."""
    address = unicodedata.normalize("NFKC", raw or "").strip()
    if len(address) > MAX_LENGTH or not ADDRESS.fullmatch(address) or not address.isprintable():
        return None
    return address


def check(user: User, typed: str, confirm: str) -> tuple[str | None, Refusal | None]:
    """The new address, or why the request page refuses it. Nothing here depends
    on whether another account has the address."""
    address = normalize(typed)
    if address is None:
        return None, Refusal.INVALID
    if address != normalize(confirm):
        return None, Refusal.MISMATCH
    if User.key_for(address) == user.email_key:
        return None, Refusal.SAME
    return address, None


def request_change(user: User, address: str, actor: User) -> Refusal | None:
    """Mail the link to ``address`` (``actor``: the person themselves, or an admin
    of their tenant, manual §2.2), at most a few an hour per user."""
    if not ratelimit.take(f"email-change-mail:{user.id}", MAILS_PER_HOUR, timedelta(hours=1)):
        return Refusal.TOO_MANY
    notify.send_mail_after_response(messages.email_change_mail(user, address))
    audit.record("account.email_change_requested", user=user, by=actor.id)
    return None


@dataclass(frozen=True)
class Pending:
    user: User
    address: str

    @property
    def sets_password(self) -> bool:
        """A person who signs in with a password gives a new one with the new address."""
        return methods.current(self.user) == methods.PASSWORD.provider


def pending(ticket: str | None) -> Pending | None:
    """The change a held link asks for, if it can still be made. An address taken
    meanwhile answers like a dead link."""
    found = links.peek_with_data(PURPOSE, ticket)
    if found is None:
        return None
    user, data = found
    address = normalize(str(data.get("email", "")))
    if address is None or user.status not in (UserStatus.ACTIVE, UserStatus.LOCKED) or _taken(user, address):
        return None
    return Pending(user, address)


def _taken(user: User, address: str) -> bool:
    other = find_user(address)
    return other is not None and other.id != user.id


def confirm(ticket: str | None, password: str | None) -> Pending | None:
    """Use the link and make the change; None if the link or the address cannot be used."""
    change = pending(ticket)
    if change is None or (change.sets_password and not password):
        return None
    if links.consume(PURPOSE, ticket) is None:
        return None
    user, old = change.user, change.user.email
    try:
        with db.session().begin_nested():
            user.email, user.email_key, user.email_verified = change.address, User.key_for(change.address), True
            db.session().flush()
    except IntegrityError:
        db.session().rollback()  # another account took the address since: like any dead link
        return None
    if change.sets_password:
        set_password(user, password or "")
    enrolment.clear(user)
    signout.everywhere(user, "email_changed")
    audit.record("account.email_changed", user=user, two_step="cleared")
    notify.send_mail_after_response(messages.email_changed_notice(user, old))
    return change
