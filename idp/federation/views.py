"""/login/<provider> and /login/<provider>/callback: one redirect URI per
upstream (RFC 9700 §4.4, the mix-up defence). Thin: the flow's state, the
broker, then one of three endings (a sign-in, a registration, a link).

Any failure is a page that says what happened, with an error id that is also
in the audit log; it never signs anybody in."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from werkzeug.wrappers import Response

from .. import audit, db
from ..account import login_method, methods, registration, tickets
from ..account.method_views import REFUSALS
from ..account.registration_views import PURPOSE as INVITE
from ..account.views import way_back
from ..auth import interactions, sessions
from ..auth.views import after_first_factor
from ..hashing import new_token
from ..models import IdentityKind, LoginIdentity, User, UserStatus
from ..oidc.authorize import MAX_AGE
from . import flow
from .broker import LABELS, BrokerError, Failure, Identity, broker_for, configured, label

bp = Blueprint("federation", __name__)

# The registration and login-method pages offer each configured upstream (manual §1.5, §2).
for _provider, _label in LABELS.items():
    methods.register(
        methods.Method(_provider, _label, lambda tenant, role, provider=_provider: configured(provider) is not None)
    )


@bp.route("/login/<provider>")
def start(provider: str) -> Response | tuple[str, int]:
    broker = broker_for(provider)
    if broker is None:
        abort(404)
    prompt, max_age, ix = None, None, None
    if request.args.get("register") == INVITE:
        if registration.invited_user(tickets.held(INVITE)) is None:
            return render_template("account/register_invalid.html"), 400
        waiting = flow.begin(provider, flow.REGISTER)
    elif "reauth" in request.args:
        # The sign-in given again, at the upstream, by someone signed in here
        # who has no password (the sensitive pages' re-authentication).
        if sessions.current() is None:
            return redirect(url_for("auth.account_login"))
        waiting = flow.begin(provider, flow.REAUTH, back=request.args.get("next", "")[:512])
        prompt = "login"
    elif link := request.args.get("link"):
        waiting = flow.begin(provider, flow.LINK, link=link[:64])
        prompt = "login"  # the account to link is the one signed in now, not one remembered there
    else:
        ix = request.args.get("interaction") or None
        args = (interactions.get(ix) or {}).get("args", {})
        # The relying party's prompt=login and max_age reach the upstream, so it asks again.
        prompt = "login" if "login" in str(args.get("prompt", "")).split() else None
        max_age = int(args["max_age"]) if MAX_AGE.fullmatch(str(args.get("max_age", ""))) else None
        waiting = flow.begin(provider, flow.LOGIN, ix=ix)
    try:
        return redirect(broker.start(waiting.pending, prompt, max_age))
    except BrokerError as err:
        return _failed(provider, err)


@bp.route("/login/<provider>/callback")
def callback(provider: str) -> Response | str | tuple[str, int]:
    broker = broker_for(provider)
    if broker is None:
        abort(404)
    waiting = flow.take(provider, request.args.get("state"))
    if waiting is None:
        return _failed(provider, BrokerError(Failure.STATE, "no sign-in waits for this state"))
    try:
        identity = broker.finish(waiting.pending, request.args.to_dict())
    except BrokerError as err:
        return _failed(provider, err)
    if waiting.purpose == flow.REGISTER:
        return _register(identity)
    if waiting.purpose == flow.LINK:
        return _link(identity, waiting.link or "")
    if waiting.purpose == flow.REAUTH:
        return _reauthenticate(identity, waiting.back)
    return _sign_in(identity, waiting.ix)


def _sign_in(identity: Identity, ix: str | None) -> Response | tuple[str, int]:
    """Found by (provider, subject) only, never by email; then the same rules as
    after a password (line, tenant standing), with no local second step."""
    user = db.session().scalar(
        select(User)
        .join(LoginIdentity)
        .where(
            LoginIdentity.kind == IdentityKind.UPSTREAM,
            LoginIdentity.provider == identity.provider,
            LoginIdentity.subject == identity.subject,
        )
    )
    where = {"method": "fed", "provider": identity.provider, "subject": identity.subject}
    if user is None or user.status != UserStatus.ACTIVE:
        reason = "not_registered" if user is None else user.status
        audit.record("login.failure", user=user, reason=reason, **where)
        page = render_template("federation/not_registered.html", upstream=label(identity.provider), user=user)
        return page, 403
    audit.record("login.success", user=user, **where)
    amr = ["fed", "mfa"] if "mfa" in identity.amr else ["fed"]
    return after_first_factor(user, ix, amr)


def _reauthenticate(identity: Identity, back: str | None) -> Response | tuple[str, int]:
    """The upstream account this browser's person is linked to signed in again:
    that counts as giving the password again. Any other account changes nothing."""
    proof = sessions.current()
    if proof is None:
        return redirect(url_for("auth.account_login"))
    linked = any(
        i.kind == IdentityKind.UPSTREAM and (i.provider, i.subject) == (identity.provider, identity.subject)
        for i in proof.user.identities
    )
    where = {"method": "fed", "provider": identity.provider, "subject": identity.subject}
    if not linked:
        audit.record("session.reauthentication_refused", user=proof.user, **where)
        return _refused(identity, str(NOT_THIS_ACCOUNT))
    sessions.reauthenticated(proof)
    audit.record("session.reauthenticated", user=proof.user, **where)
    return redirect(way_back(back))


def _register(identity: Identity) -> str | tuple[str, int]:
    ticket = tickets.held(INVITE)
    try:
        user = registration.register_with_upstream(ticket, identity.provider, identity.subject)
    except login_method.MethodRefused as refused:
        return _refused(identity, str(REFUSALS[refused.reason]))
    if user is None:
        return render_template("account/register_invalid.html"), 400
    tickets.drop(INVITE)
    return render_template("federation/register_done.html", upstream=label(identity.provider))


def _link(identity: Identity, nonce: str) -> str | tuple[str, int]:
    try:
        user = login_method.complete_link(nonce, identity.provider, identity.subject)
    except login_method.MethodRefused as refused:
        return _refused(identity, str(REFUSALS[refused.reason]))
    if user is None:
        return render_template("account/link_invalid.html"), 400
    tickets.drop(login_method.PURPOSE)
    return render_template("account/method_done.html")


def _refused(identity: Identity, message: str) -> tuple[str, int]:
    audit.record("account.upstream_link_refused", provider=identity.provider, subject=identity.subject)
    return render_template("federation/refused.html", message=message, upstream=label(identity.provider)), 409


MESSAGES = {
    Failure.DENIED: _l("The login at %(upstream)s was cancelled."),
    Failure.STATE: _l(
        "This login could not be matched with one started in this browser: it may have expired or been "
        "used already. Please start again from the login page."
    ),
    Failure.UNAVAILABLE: _l("%(upstream)s is not answering at the moment. Please try again later."),
}
NOT_THIS_ACCOUNT = _l("This is not the account you are signed in with. Sign in at the service with your own account.")
UNVERIFIED = _l("The answer from %(upstream)s could not be verified.")


def _failed(provider: str, err: BrokerError) -> tuple[str, int]:
    error_id = new_token(6)
    audit.record(
        "login.failure", method="fed", provider=provider, reason=err.failure.value, detail=err.detail, error_id=error_id
    )
    message = str(MESSAGES.get(err.failure, UNVERIFIED)) % {"upstream": label(provider)}
    status = 502 if err.failure == Failure.UNAVAILABLE else 400
    page = render_template("federation/error.html", message=message, error_id=error_id, failure=err.failure.value)
    return page, status
