"""Two-step verification pages (manual §1.1 and §5): enrol by SMS or authenticator
app, check a code, use a recovery code, show the new recovery code once."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import audit, db, notify, sealing
from ..account import messages
from ..auth import login, pipeline, remember, throttle
from ..auth.login import Outcome
from ..auth.views import outcome_message
from ..mail import TransportError
from ..models import User
from . import enrolment, recovery, sms, totp
from .forms import CodeForm, ContinueForm, PhoneForm, RecoveryCodeForm, SavedForm

bp = Blueprint("mfa", __name__, url_prefix="/mfa")

AMR = {"sms": ["pwd", "sms", "mfa"], "totp": ["pwd", "otp", "mfa"]}


def signing_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """Only for a browser whose password step is done and still fresh."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        current = pipeline.pending()
        if current is None:
            return redirect(url_for("auth.login"))
        return view(*current, *args, **kwargs)

    return wrapper


@dataclass(frozen=True)
class SendProblem:
    """Why no SMS went out: the text for the person and the page's status."""

    message: str
    status: int
    refused: sms.SendRefused | None = None


def _send_code(user: User, phone: str, purpose: str, flow: str | None = None) -> SendProblem | None:
    """Send a new SMS code at once; what went wrong if it cannot be sent (nothing is used up)."""
    if refused := sms.take_send(user):
        db.session().rollback()  # nothing is sent: the minute taken before an hour refused is given back
        message = {
            sms.SendRefused.TOO_SOON: _("A code was sent a moment ago. Please wait a minute before asking again."),
            sms.SendRefused.TOO_MANY: _("Too many codes were sent. Please try again in an hour."),
        }[refused]
        return SendProblem(message, 429, refused)
    _row, message = sms.new_code(user, phone, purpose, flow)
    try:
        notify.send_sms_now(message)
    except TransportError as e:
        # The new code was never delivered: roll back so the earlier code stays
        # valid and this attempt does not count against the resend limits; the
        # audit event (recorded after the rollback) shows operators the outage.
        db.session().rollback()
        audit.record("mfa.sms_failed", user=user, purpose=purpose, error=str(e)[:200])
        return SendProblem(_("The SMS could not be sent. Please try again later."), 503)
    audit.record("mfa.sms_sent", user=user, purpose=purpose)
    return None


def _send_login_code(user: User, phone: str) -> SendProblem | None:
    """A code for this sign-in. A person who starts signing in again within the
    minute already holds a valid code, which the throttle would not replace:
    that code is the one to enter."""
    problem = _send_code(user, phone, "login")
    if problem is not None and problem.refused == sms.SendRefused.TOO_SOON and sms.has_live_code(user, "login"):
        return None
    return problem


@bp.route("/next")
@signing_in
def next_step(user: User, state: dict[str, Any]) -> Response | tuple[str, int]:
    """Enrol if there is no second factor yet; otherwise the challenge (sending the SMS)."""
    current = enrolment.confirmed(user)
    if current is None:
        return redirect(url_for("mfa.setup"))
    if current.method == "sms" and not state.get("sms_sent"):
        if problem := _send_login_code(user, current.phone or ""):
            return render_template("mfa/error.html", message=problem.message), problem.status
        pipeline.update_pending(sms_sent=True)
    return redirect(url_for("mfa.challenge"))


def enrolling(view: Callable[..., Any]) -> Callable[..., Any]:
    """The enrolment pages: only for a sign-in whose user has no second factor yet.

    A holder signing in from the internet to undo line-only never enrols a
    factor: whoever has the password would then hold the contract's settings.
    The factor must come from a registered line, or from before line-only."""

    @wraps(view)
    def wrapper(user: User, state: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        if state.get("why") == "recovery":
            audit.record("mfa.enrolment_refused", user=user, why="recovery")
            message = _(
                "Two-step verification cannot be set up in this sign-in. "
                "Sign in over a registered line, or ask the service operator."
            )
            return render_template("mfa/error.html", message=message), 403
        if enrolment.confirmed(user):
            return redirect(url_for("mfa.challenge"))
        return view(user, state, *args, **kwargs)

    return signing_in(wrapper)


@bp.route("/setup")
@enrolling
def setup(user: User, state: dict[str, Any]) -> Response | str:
    return render_template("mfa/setup.html", why=state.get("why", "browser"))


@bp.route("/setup/sms", methods=["GET", "POST"])
@enrolling
def setup_sms(user: User, state: dict[str, Any]) -> Response | str:
    """The number is kept in this sign-in only once its code was sent."""
    form, error, sent_to = PhoneForm(), None, None
    if form.validate_on_submit():
        phone = sms.normalize_phone(form.phone.data or "")
        if phone is None:
            error = _("Enter the number of a mobile phone that can receive SMS, such as 090-1234-5678.")
        elif (problem := _send_code(user, phone, "enrol", pipeline.flow_of(state))) is None:
            pipeline.update_pending(sms_phone=phone)
            return redirect(url_for("mfa.setup_sms_verify"))
        elif problem.refused == sms.SendRefused.TOO_SOON and (sent_to := state.get("sms_phone")):
            error = _(
                "A code was sent a moment ago to the number ending in %(tail)s, which stays the number to confirm. "
                "Enter that code, or wait a minute before sending a code to another number.",
                tail=sent_to[-4:],
            )
        else:
            error = problem.message
    return render_template("mfa/setup_sms.html", form=form, error=error, sent_to=sent_to)


@bp.route("/setup/sms/verify", methods=["GET", "POST"])
@enrolling
def setup_sms_verify(user: User, state: dict[str, Any]) -> Response | str:
    """A code confirms only the number it was sent to, in the sign-in that sent it."""
    phone = state.get("sms_phone")
    if not phone:
        return redirect(url_for("mfa.setup_sms"))
    form, error = CodeForm(), None
    if form.validate_on_submit():
        result, sent_to = sms.check_enrolment(user, pipeline.flow_of(state), phone, form.code.data or "")
        if sent_to is not None:
            return _enrolled(user, state, "sms", form.remember.data, phone=sent_to)
        if locked := _failed(user, "sms", result.value):
            return locked
        error = _code_error(result)
    return render_template(
        "mfa/code.html",
        form=form,
        error=error,
        method="sms",
        phone=phone,
        resend=url_for("mfa.resend_enrolment"),
        enrolling=True,
    )


@bp.route("/setup/totp")
@enrolling
def setup_totp(user: User, state: dict[str, Any]) -> str:
    """Each display makes a new secret, kept sealed in this sign-in only: one shown
    before (to this or any other sign-in) can no longer be confirmed."""
    secret = totp.new_secret()
    pipeline.update_pending(totp_shown=totp.seal_shown(pipeline.flow_of(state), secret))
    uri = totp.provisioning_uri(secret, user.email)
    return render_template(
        "mfa/setup_totp.html", form=CodeForm(), error=None, uri=uri, qr=totp.qr_svg_data_uri(uri), secret=secret
    )


@bp.route("/setup/totp", methods=["POST"])
@enrolling
def setup_totp_verify(user: User, state: dict[str, Any]) -> Response | str:
    """Confirm the secret this sign-in showed. After a wrong code the page asks
    again without showing the secret a second time; a new QR code is a new secret."""
    secret = totp.unseal_shown(pipeline.flow_of(state), state.get("totp_shown"), pipeline.PENDING_TTL)
    if secret is None:
        return redirect(url_for("mfa.setup_totp"))
    form, error = CodeForm(), None
    if form.validate_on_submit():
        step = totp.matching_step(secret, form.code.data or "")
        if step is not None:
            return _enrolled(user, state, "totp", form.remember.data, totp_secret=secret, totp_step=step)
        if locked := _failed(user, "otp", "wrong"):
            return locked
        error = _("The code is not correct. Enter the 6 digits your authenticator app shows now.")
    return render_template("mfa/setup_totp.html", form=form, error=error, uri=None)


def _failure_key(user: User) -> str:
    return f"mfa:{user.id}"


def _failed(user: User, method: str, reason: str) -> tuple[str, int] | None:
    """Count a wrong second step. Whoever holds the password must not guess codes
    forever: the 10th wrong code in a row locks the account like 10 wrong
    passwords do, with the same unlock mail. Returns the page to show then."""
    failures = throttle.bump(_failure_key(user))
    audit.record("mfa.failure", user=user, method=method, reason=reason, consecutive=failures)
    if failures < throttle.LOCK_AFTER:
        return None
    throttle.clear(_failure_key(user))
    if login.lock(user):
        notify.send_mail_after_response(messages.unlock_mail(user))
    pipeline.abandon()
    return render_template("mfa/error.html", message=outcome_message(Outcome.LOCKED)), 401


def _enrolled(user: User, state: dict[str, Any], method: str, remember_browser: bool, **factor: Any) -> Response:
    """Record the factor just proven, over the sign-in's line if any, and show its
    recovery code. If another sign-in recorded one first, this one is asked for it."""
    code = enrolment.enrol(user, method, line_id=state.get("line"), **factor)
    if code is None:
        return redirect(url_for("mfa.next_step"))
    throttle.clear(_failure_key(user))
    audit.record("mfa.enrolled", user=user, method=method)
    pipeline.update_pending(
        amr=AMR[method],
        remember=bool(remember_browser),
        recovery=_sealed(code),
        totp_shown=None,
        sms_phone=None,
    )
    return redirect(url_for("mfa.recovery_code"))


def _sealed(code: str) -> str:
    """The recovery code waits in the session cookie sealed, never in clear."""
    return sealing.seal("recovery-shown", code)


def _code_error(result: sms.CheckResult) -> str:
    if result == sms.CheckResult.WRONG:
        return _("The code is not correct. Check the SMS and try again.")
    return _("This code can no longer be used. Ask for a new code.")


@bp.route("/challenge", methods=["GET", "POST"])
@signing_in
def challenge(user: User, state: dict[str, Any]) -> Response | str:
    current = enrolment.confirmed(user)
    if current is None:
        return redirect(url_for("mfa.setup"))
    form, error = CodeForm(), None
    if form.validate_on_submit():
        if current.method == "sms":
            result = sms.check(user, "login", form.code.data or "")
            ok, error = result == sms.CheckResult.OK, _code_error(result)
        else:
            step = totp.matching_step(totp.secret_of(current) or "", form.code.data or "")
            ok = step is not None and totp.accept(current, step)
            error = _("The code is not correct. Enter the 6 digits your authenticator app shows now.")
        if ok:
            throttle.clear(_failure_key(user))
            audit.record("mfa.success", user=user, method=current.method)
            if form.remember.data:
                remember.remember(user)
            return pipeline.complete(user, state, AMR[current.method])
        if locked := _failed(user, current.method, "wrong"):
            return locked
    resend = url_for("mfa.resend") if current.method == "sms" else None
    return render_template(
        "mfa/code.html",
        form=form,
        error=error,
        method=current.method,
        phone=current.phone,
        resend=resend,
        enrolling=False,
    )


@bp.route("/resend/login", methods=["POST"])
@signing_in
def resend(user: User, state: dict[str, Any]) -> Response | tuple[str, int]:
    current = enrolment.confirmed(user)
    if not ContinueForm().validate_on_submit() or current is None or current.method != "sms":
        return redirect(url_for("mfa.next_step"))
    if problem := _send_code(user, current.phone or "", "login"):
        return render_template("mfa/error.html", message=problem.message), problem.status
    return redirect(url_for("mfa.challenge"))


@bp.route("/resend/enrol", methods=["POST"])
@enrolling
def resend_enrolment(user: User, state: dict[str, Any]) -> Response | tuple[str, int]:
    """A new code to the number this sign-in sent one to, never to another."""
    phone = state.get("sms_phone")
    if not ContinueForm().validate_on_submit() or not phone:
        return redirect(url_for("mfa.setup_sms"))
    if problem := _send_code(user, phone, "enrol", pipeline.flow_of(state)):
        return render_template("mfa/error.html", message=problem.message), problem.status
    return redirect(url_for("mfa.setup_sms_verify"))


@bp.route("/recovery", methods=["GET", "POST"])
@signing_in
def use_recovery(user: User, state: dict[str, Any]) -> Response | str:
    current = enrolment.confirmed(user)
    if current is None:
        return redirect(url_for("mfa.setup"))
    form, error = RecoveryCodeForm(), None
    if form.validate_on_submit():
        replacement = recovery.use(current, form.recovery_code.data or "")
        if replacement is not None:
            throttle.clear(_failure_key(user))
            audit.record("mfa.recovery_code_used", user=user)
            pipeline.update_pending(amr=["pwd", "mfa"], remember=False, recovery=_sealed(replacement))
            return redirect(url_for("mfa.recovery_code"))
        if locked := _failed(user, "recovery_code", "wrong"):
            return locked
        error = _("The recovery code is not correct.")
    return render_template("mfa/recovery.html", form=form, error=error)


@bp.route("/recovery-code", methods=["GET", "POST"])
@signing_in
def recovery_code(user: User, state: dict[str, Any]) -> Response | str:
    code = sealing.unseal("recovery-shown", state.get("recovery"))
    if code is None:
        return redirect(url_for("mfa.next_step"))
    form = SavedForm()
    if form.validate_on_submit():
        pipeline.update_pending(recovery=None, saved=True)
        return redirect(url_for("mfa.done"))
    return render_template("mfa/recovery_code.html", form=form, code=code)


@bp.route("/done", methods=["GET", "POST"])
@signing_in
def done(user: User, state: dict[str, Any]) -> Response | str:
    if not state.get("saved") or not state.get("amr"):
        return redirect(url_for("mfa.next_step"))
    form = ContinueForm()
    if form.validate_on_submit():
        if state.get("remember"):
            remember.remember(user)
        return pipeline.complete(user, state, state["amr"])
    return render_template("mfa/done.html", form=form)
