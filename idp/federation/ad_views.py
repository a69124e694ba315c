"""Active Directory sign-in pages (manual §1.3, §1.5 (4)②, §2.2 ③).

``/login/ad``: the connection id (接続ID), typed once and then remembered in
this browser; for a registration or a login-method change, the connection-id
confirmation page (接続ID確認画面). Then ADFS (``/saml/<id>/acs`` comes back)
or our LDAP page, then the same endings as an upstream account (``endings``).

The ACS is posted to from ADFS's site, so the browser sends no SameSite=Lax
cookie with it: the answer is verified there without this browser's session,
its assertion id used up, and what it proved travels sealed (for two minutes)
through a 303 to the same address, where the session's waiting request must
be the one the answer's InResponseTo names."""

from __future__ import annotations

import json

from flask import Blueprint, abort, make_response, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from .. import sealing
from ..account import login_method, methods, registration, tickets
from ..account.registration_views import PURPOSE as INVITE
from ..auth import sessions
from ..auth.login import Outcome
from ..auth.views import outcome_message
from ..forms import PAGE_EXPIRED
from ..models import Directory, DirectoryKind, IdentityKind, Role
from . import ad_flow, assertions, endings, flow, ldap, saml
from . import directory as directories
from .ad_forms import ConnectionForm, LdapForm
from .broker import BrokerError, Failure, Identity

bp = Blueprint("ad", __name__)

LABEL = _l("Active Directory account")
UNKNOWN_CONNECTION = _l(
    "This connection ID is not correct. Check the connection ID you were told by the contract holder."
)
ANSWER = "saml answer"
ANSWER_TTL = 120

# The registration and login-method pages offer AD when the tenant has it, never to its holder (manual §1.5, §2.1).
methods.register(
    methods.Method(
        ad_flow.METHOD,
        LABEL,
        lambda tenant, role: role != Role.HOLDER and directories.of_tenant(tenant.id) is not None,
    )
)


@bp.route("/login/ad", methods=["GET", "POST"])
def start() -> Response | str | tuple[str, int]:
    wanted = flow.asked(request.args, INVITE)
    tenant_id: str | None = None
    if wanted.purpose == flow.REAUTH:
        return _reauthenticate(wanted)
    if wanted.purpose == flow.REGISTER:
        user = registration.invited_user(tickets.held(INVITE))
        if user is None:
            return render_template("account/register_invalid.html"), 400
        if all(m.provider != ad_flow.METHOD for m in methods.offered(user.tenant, user.role)):
            abort(404)
        tenant_id = user.tenant_id
    elif wanted.purpose == flow.LINK:
        user = login_method.linking(wanted.link or "", ad_flow.METHOD)
        if user is None:
            return render_template("account/link_invalid.html"), 400
        tenant_id = user.tenant_id
    elif request.method == "GET" and "change" not in request.args and (known := ad_flow.remembered()):
        return _leave(known, wanted)  # the next time goes straight on (manual §1.3)
    return _connection_page(wanted, tenant_id)


def _connection_page(wanted: flow.Asked, tenant_id: str | None) -> Response | str | tuple[str, int]:
    """At login the connection id is typed; when registering or changing the
    method it is shown (the tenant's own) to be confirmed (manual §1.5 (4)②)."""
    form = ConnectionForm()
    confirming = tenant_id is not None
    error, status = None, 200
    if form.validate_on_submit():
        found = ad_flow.connection(form.connection_id.data or "", tenant_id)
        if found is not None:
            return _leave(found, wanted)
        error, status = str(UNKNOWN_CONNECTION), 400
    elif form.is_submitted():
        error, status = str(PAGE_EXPIRED) if form.csrf_token.errors else str(UNKNOWN_CONNECTION), 400
    elif confirming:
        form.connection_id.data = getattr(directories.of_tenant(tenant_id or ""), "connection_id", "")
    elif known := ad_flow.remembered():
        form.connection_id.data = known.connection_id
    page = render_template("federation/ad_connection.html", form=form, error=error, confirming=confirming)
    return page, status


def _leave(directory: Directory, wanted: flow.Asked) -> Response | tuple[str, int]:
    try:
        target = ad_flow.start(directory, wanted)
    except BrokerError as err:
        return _failed(directory.connection_id, err)
    return ad_flow.remember(redirect(target), directory)


def _reauthenticate(wanted: flow.Asked) -> Response | tuple[str, int]:
    """The sign-in given again through the person's own connection (the sensitive
    pages' re-authentication, for people without a password)."""
    proof = sessions.current()
    if proof is None:
        return redirect(url_for("auth.account_login"))
    directory = ad_flow.of_user(proof.user)
    if directory is None:
        abort(404)
    return _leave(directory, wanted)


# -- LDAP: our own page asks for the directory's user name and password -------------------


@bp.route("/login/ad/<connection_id>/ldap", methods=["GET", "POST"])
def ldap_login(connection_id: str) -> Response | str | tuple[str, int]:
    directory = directories.by_connection_id(connection_id)
    waiting = flow.peek(connection_id)
    if directory is None or directory.kind != DirectoryKind.LDAP or waiting is None:
        return _failed(connection_id, BrokerError(Failure.STATE, "no LDAP sign-in waits in this browser"))
    form, error, status = LdapForm(), None, 200
    if form.validate_on_submit():
        bound = ad_flow.bind(directory, form.username.data or "", form.password.data or "")
        if bound.account is not None:
            flow.take(connection_id, waiting.pending.state)
            account = bound.account
            identity = Identity(connection_id, account.upn.lower(), account.email, account.name, ["ldap"])
            return endings.finish(waiting, _proven(directory, identity))
        if bound.failure is not None:
            failure = Failure.UNAVAILABLE if bound.failure == ldap.LdapFailure.UNAVAILABLE else Failure.CONNECTION
            return _failed(connection_id, BrokerError(failure, bound.detail), "ldap")
        assert bound.outcome is not None
        error = _ldap_message(bound.outcome)
        status = 429 if bound.outcome == Outcome.THROTTLED else 401
    elif form.is_submitted():
        error, status = str(PAGE_EXPIRED) if form.csrf_token.errors else _ldap_message(Outcome.BAD_CREDENTIALS), 400
    return render_template("federation/ad_ldap.html", form=form, error=error), status


def _ldap_message(outcome: Outcome) -> str:
    """As the password sign-in answers, but this page asks for a user name, not an email."""
    return str(WRONG_USER_NAME) if outcome == Outcome.BAD_CREDENTIALS else outcome_message(outcome)


WRONG_USER_NAME = _l("The user name or password is incorrect.")


# -- SAML: the service provider's metadata and assertion consumer ---------------------------


def _saml_directory(connection_id: str) -> Directory:
    directory = directories.by_connection_id(connection_id)
    if directory is None or directory.kind != DirectoryKind.SAML:
        raise BrokerError(Failure.CONNECTION, "no ADFS connection of this id")
    return directory


@bp.route("/saml/<connection_id>/metadata")
def metadata(connection_id: str) -> Response:
    directory = directories.by_connection_id(connection_id)
    if directory is None:
        abort(404)
    response = make_response(saml.sp_metadata(directory))
    response.mimetype = "application/samlmetadata+xml"
    return response


@bp.route("/saml/<connection_id>/acs", methods=["POST"])
def acs(connection_id: str) -> Response | tuple[str, int]:
    """ADFS's answer (HTTP-POST binding), verified without this browser's session."""
    try:
        directory = _saml_directory(connection_id)
        assertion = saml.verify(directory, request.form.get("SAMLResponse"))
    except BrokerError as err:
        return _failed(connection_id, err)
    if not assertions.use_once(assertion.issuer, assertion.assertion_id, assertion.not_on_or_after):
        return _failed(connection_id, BrokerError(Failure.REPLAY, f"assertion {assertion.assertion_id[:64]} seen"))
    proved = {
        "cid": connection_id,
        "irt": assertion.in_response_to,
        "upn": assertion.upn,
        "name": assertion.name,
        "email": assertion.email,
    }
    answer = sealing.seal(ANSWER, json.dumps(proved))
    return redirect(url_for("ad.acs_done", connection_id=connection_id, answer=answer), 303)


@bp.route("/saml/<connection_id>/acs", methods=["GET"])
def acs_done(connection_id: str) -> Response | str | tuple[str, int]:
    """Back in this browser's session: the answer must be to the request it sent."""
    raw = sealing.unseal(ANSWER, request.args.get("answer"), ANSWER_TTL)
    proved = json.loads(raw) if raw else {}
    if proved.get("cid") != connection_id:
        return _failed(connection_id, BrokerError(Failure.STATE, "no verified answer"))
    waiting = flow.take(connection_id, proved["irt"])
    if waiting is None:
        return _failed(connection_id, BrokerError(Failure.STATE, "InResponseTo names no request of this browser"))
    try:
        directory = _saml_directory(connection_id)
    except BrokerError as err:
        return _failed(connection_id, err)
    identity = Identity(connection_id, proved["upn"], proved.get("email"), proved.get("name"), ["saml"])
    return endings.finish(waiting, _proven(directory, identity))


def _proven(directory: Directory, identity: Identity) -> endings.Proven:
    return endings.Proven(
        identity,
        str(LABEL),
        list(identity.amr),
        kind=IdentityKind.AD,
        choice=ad_flow.METHOD,
        tenant_id=directory.tenant_id,
    )


def _failed(connection_id: str, err: BrokerError, method: str = "saml") -> tuple[str, int]:
    return endings.failed(str(LABEL), err, method, connection_id[:64])
