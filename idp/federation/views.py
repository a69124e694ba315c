"""/login/<provider> and /login/<provider>/callback: one redirect URI per
upstream (RFC 9700 §4.4, the mix-up defence). Thin: the flow's state, the
broker, then one of the endings (``endings``).

Any failure is a page that says what happened, with an error id that is also
in the audit log; it never signs anybody in."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from ..account import methods, registration, tickets
from ..account.registration_views import PURPOSE as INVITE
from ..auth import sessions
from . import endings, flow
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
    wanted = flow.asked(request.args, INVITE)
    if wanted.purpose == flow.REGISTER and registration.invited_user(tickets.held(INVITE)) is None:
        return render_template("account/register_invalid.html"), 400
    if wanted.purpose == flow.REAUTH and sessions.current() is None:
        # The sign-in given again, at the upstream, by someone signed in here
        # who has no password (the sensitive pages' re-authentication).
        return redirect(url_for("auth.account_login"))
    waiting = flow.begin(provider, wanted.purpose, wanted.ix, wanted.link, wanted.back)
    try:
        return redirect(broker.start(waiting.pending, wanted.prompt, wanted.max_age))
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
    return endings.finish(waiting, _proven(identity))


def _proven(identity: Identity) -> endings.Proven:
    amr = ["fed", "mfa"] if "mfa" in identity.amr else ["fed"]
    return endings.Proven(identity, label(identity.provider), amr)


def _failed(provider: str, err: BrokerError) -> tuple[str, int]:
    return endings.failed(label(provider), err, "fed", provider)
