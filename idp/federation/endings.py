"""How a sign-in elsewhere ends, whatever proved the account: an upstream
(OpenID Connect, Facebook) or a tenant's Active Directory (ADFS over SAML, an
LDAP bind). One of four endings, chosen when the sign-in began (``flow``):
signing in, finishing an invitation, a login-method change (a link), or the
sign-in given again before a sensitive setting.

A person is found by (kind, provider, subject) only, never by email. Any
failure is a page with an error id that is also in the audit log; it never
signs anybody in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import audit, db
from ..account import login_method, registration, tickets
from ..account.method_views import REFUSALS
from ..account.registration_views import PURPOSE as INVITE
from ..account.views import way_back
from ..auth import sessions
from ..auth.views import after_first_factor
from ..hashing import new_token
from ..models import IdentityKind, LoginIdentity, User, UserStatus
from . import flow
from .broker import BrokerError, Failure, Identity


@dataclass(frozen=True)
class Proven:
    """An account its broker verified, and what it is to us."""

    identity: Identity
    label: str  # how pages name the account ("Google account", "Active Directory account")
    amr: list[str]  # what the sign-in adds to the session (RFC 8176)
    kind: str = IdentityKind.UPSTREAM
    # The login method it is (manual §2.1): the upstream itself, or "ad" for any connection.
    choice: str = ""
    # An AD account signs in only the people of the tenant its connection belongs to.
    tenant_id: str | None = None

    @property
    def method(self) -> str:
        return self.choice or self.identity.provider

    @property
    def where(self) -> dict[str, Any]:
        """What the audit events say of it."""
        return {"method": self.amr[0], "provider": self.identity.provider, "subject": self.identity.subject}


def finish(waiting: flow.Waiting, proven: Proven) -> Response | str | tuple[str, int]:
    if waiting.purpose == flow.REGISTER:
        return _register(proven)
    if waiting.purpose == flow.LINK:
        return _link(proven, waiting.link or "")
    if waiting.purpose == flow.REAUTH:
        return _reauthenticate(proven, waiting.back)
    return sign_in(proven, waiting.ix)


def linked_user(kind: str, provider: str, subject: str, tenant_id: str | None = None) -> User | None:
    """Whom the account signs in (of ``tenant_id`` only, when given)."""
    user = db.session().scalar(
        select(User)
        .join(LoginIdentity)
        .where(LoginIdentity.kind == kind, LoginIdentity.provider == provider, LoginIdentity.subject == subject)
    )
    return user if user is not None and (tenant_id is None or user.tenant_id == tenant_id) else None


def sign_in(proven: Proven, ix: str | None) -> Response | tuple[str, int]:
    """Then the same rules as after a password (line, tenant standing), with no
    local second step."""
    identity = proven.identity
    user = linked_user(proven.kind, identity.provider, identity.subject, proven.tenant_id)
    if user is None or user.status != UserStatus.ACTIVE:
        reason = "not_registered" if user is None else user.status
        audit.record("login.failure", user=user, reason=reason, **proven.where)
        return render_template("federation/not_registered.html", upstream=proven.label, user=user), 403
    audit.record("login.success", user=user, **proven.where)
    return after_first_factor(user, ix, proven.amr)


def _reauthenticate(proven: Proven, back: str | None) -> Response | tuple[str, int]:
    """The account this browser's person is linked to signed in again: that
    counts as giving the password again. Any other account changes nothing."""
    proof = sessions.current()
    if proof is None:
        return redirect(url_for("auth.account_login"))
    identity = proven.identity
    linked = any(
        i.kind == proven.kind and (i.provider, i.subject) == (identity.provider, identity.subject)
        for i in proof.user.identities
    )
    if not linked:
        audit.record("session.reauthentication_refused", user=proof.user, **proven.where)
        return _refused(proven, str(NOT_THIS_ACCOUNT))
    sessions.reauthenticated(proof)
    audit.record("session.reauthenticated", user=proof.user, **proven.where)
    return redirect(way_back(back))


def _register(proven: Proven) -> str | tuple[str, int]:
    ticket = tickets.held(INVITE)
    identity = proven.identity
    try:
        user = registration.register_with_upstream(
            ticket, identity.provider, identity.subject, kind=proven.kind, tenant_id=proven.tenant_id
        )
    except login_method.MethodRefused as refused:
        return _refused(proven, str(REFUSALS[refused.reason]))
    if user is None:
        return render_template("account/register_invalid.html"), 400
    tickets.drop(INVITE)
    return render_template("federation/register_done.html", upstream=proven.label)


def _link(proven: Proven, nonce: str) -> str | tuple[str, int]:
    identity = proven.identity
    try:
        user = login_method.complete_link(
            nonce, proven.method, identity.subject, proven.kind, provider=identity.provider, tenant_id=proven.tenant_id
        )
    except login_method.MethodRefused as refused:
        return _refused(proven, str(REFUSALS[refused.reason]))
    if user is None:
        return render_template("account/link_invalid.html"), 400
    tickets.drop(login_method.PURPOSE)
    return render_template("account/method_done.html")


def _refused(proven: Proven, message: str) -> tuple[str, int]:
    identity = proven.identity
    audit.record("account.upstream_link_refused", provider=identity.provider, subject=identity.subject)
    return render_template("federation/refused.html", message=message, upstream=proven.label), 409


MESSAGES = {
    Failure.DENIED: _l("The login at %(upstream)s was cancelled."),
    Failure.STATE: _l(
        "This login could not be matched with one started in this browser: it may have expired or been "
        "used already. Please start again from the login page."
    ),
    Failure.UNAVAILABLE: _l("%(upstream)s is not answering at the moment. Please try again later."),
    Failure.CONNECTION: _l(
        "This Active Directory connection cannot be used now. Please ask the contract holder to check the "
        "Active Directory setting."
    ),
}
NOT_THIS_ACCOUNT = _l("This is not the account you are signed in with. Sign in at the service with your own account.")
UNVERIFIED = _l("The answer from %(upstream)s could not be verified.")


def failed(label: str, err: BrokerError, method: str, provider: str) -> tuple[str, int]:
    error_id = new_token(6)
    audit.record(
        "login.failure",
        method=method,
        provider=provider,
        reason=err.failure.value,
        detail=err.detail,
        error_id=error_id,
    )
    message = str(MESSAGES.get(err.failure, UNVERIFIED)) % {"upstream": label}
    status = 502 if err.failure == Failure.UNAVAILABLE else 400
    page = render_template("federation/error.html", message=message, error_id=error_id, failure=err.failure.value)
    return page, status
