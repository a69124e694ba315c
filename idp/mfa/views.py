"""Two-step verification pages (manual §1.1 and §5): enrol by SMS (the first page
since the manual's version 4.0) or authenticator app, check a code, use a
recovery code, show the new recovery code once."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import audit, sealing
from ..auth import pipeline, remember
from ..models import MfaEnrolment, User
from . import enrolment, recovery, sms, steps, totp
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


def _send_login_code(user: User, phone: str) -> steps.SendProblem | None:
    """A code for this sign-in. A person who starts signing in again within the
    minute already holds a valid code, which the throttle would not replace:
    that code is the one to enter."""
    problem = steps.send_code(user, phone, "login")
    if problem is not None and problem.refused == sms.SendRefused.TOO_SOON and sms.has_live_code(user, "login"):
        return None
    return problem


@bp.route("/next")
@signing_in
def next_step(user: User, state: dict[str, Any]) -> Response | tuple[str, int]:
    """Enrol if there is no second factor yet; otherwise the challenge (sending the SMS).

    A code that a limit holds back (one a minute, five an hour) still leads to
    the challenge, which says which limit and when a code can be sent, and
    offers the resend and the recovery code: someone who enrolled in one
    browser and signs in on another a moment later must not meet a dead end."""
    current = enrolment.confirmed(user)
    if current is None:
        return redirect(url_for("mfa.setup_sms"))
    if current.method == "sms" and not state.get("sms_sent"):
        problem = _send_login_code(user, current.phone or "")
        if problem is None:
            pipeline.update_pending(sms_sent=True)
        elif problem.refused is None:  # the gateway failed: nothing was sent nor used up
            return render_template("mfa/error.html", message=problem.message), problem.status
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
def setup(user: User, state: dict[str, Any]) -> Response:
    """The first enrolment page is the SMS one (manual §1.1, since version 4.0),
    which links to the authenticator app's."""
    return redirect(url_for("mfa.setup_sms"))


def _sms_page(form: PhoneForm, state: dict[str, Any], error: str | None = None, sent_to: str | None = None) -> str:
    return render_template(
        "mfa/setup_sms.html",
        form=form,
        error=error,
        sent_to=sent_to,
        why=state.get("why", "browser"),
        verify_url=url_for("mfa.setup_sms_verify"),
        totp_url=url_for("mfa.setup_totp"),
    )


@bp.route("/setup/sms", methods=["GET", "POST"])
@enrolling
def setup_sms(user: User, state: dict[str, Any]) -> Response | str | tuple[str, int]:
    """The number is kept in this sign-in only once its code was sent."""
    form, error, sent_to = PhoneForm(), None, None
    if form.validate_on_submit():
        phone = sms.normalize_phone(form.phone.data or "")
        if phone is None:
            error = _("Enter the number of a mobile phone that can receive SMS, such as 090-1234-5678.")
        elif (problem := steps.send_code(user, phone, "enrol", pipeline.flow_of(state))) is None:
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
    return _sms_page(form, state, error, sent_to)


def _sms_code_page(form: CodeForm, phone: str, error: str | None = None, notice: str | None = None) -> str:
    return render_template(
        "mfa/code.html",
        form=form,
        error=error,
        notice=notice,
        method="sms",
        phone=phone,
        action=url_for("mfa.setup_sms_verify"),
        resend=url_for("mfa.resend_enrolment"),
        recovery_url=None,
    )


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
        if locked := steps.failed(user, "sms", result.value):
            return locked
        error = steps.code_error(result)
    return _sms_code_page(form, phone, error)


@bp.route("/setup/totp")
@enrolling
def setup_totp(user: User, state: dict[str, Any]) -> str:
    """Each display makes a new secret, kept sealed in this sign-in only: one shown
    before (to this or any other sign-in) can no longer be confirmed."""
    shown = steps.show_new_secret(pipeline.flow_of(state), user.email)
    pipeline.update_pending(totp_shown=shown.sealed)
    return _totp_page(CodeForm(), shown)


def _totp_page(form: CodeForm, shown: steps.ShownSecret | None, error: str | None = None) -> str:
    return render_template(
        "mfa/setup_totp.html",
        form=form,
        error=error,
        uri=shown.uri if shown else None,
        qr=shown.qr if shown else None,
        secret=shown.secret if shown else None,
        new_qr_url=url_for("mfa.setup_totp"),
        sms_url=url_for("mfa.setup_sms"),
        remember=True,
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
        if locked := steps.failed(user, "otp", "wrong"):
            return locked
        error = steps.totp_error()
    return _totp_page(form, None, error)


def _enrolled(user: User, state: dict[str, Any], method: str, remember_browser: bool, **factor: Any) -> Response:
    """Record the factor just proven, over the sign-in's line if any, and show its
    recovery code. If another sign-in recorded one first, this one is asked for it."""
    code = enrolment.enrol(user, method, line_id=state.get("line"), **factor)
    if code is None:
        return redirect(url_for("mfa.next_step"))
    steps.succeeded(user)
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


def _challenge_page(current: MfaEnrolment, form: CodeForm, error: str | None = None, notice: str | None = None) -> str:
    return render_template(
        "mfa/code.html",
        form=form,
        error=error,
        notice=notice,
        method=current.method,
        phone=current.phone,
        action=url_for("mfa.challenge"),
        resend=url_for("mfa.resend") if current.method == "sms" else None,
        recovery_url=url_for("mfa.use_recovery"),
    )


def _not_sent_notice(user: User) -> str:
    """Why this sign-in has no SMS code yet: the limit that held it back and when
    one can be sent, or, once it can, what to press."""
    return steps.limit_message(user) or _('No code was sent for this login yet. Press "Send the code again".')


@bp.route("/challenge", methods=["GET", "POST"])
@signing_in
def challenge(user: User, state: dict[str, Any]) -> Response | str:
    current = enrolment.confirmed(user)
    if current is None:
        return redirect(url_for("mfa.setup_sms"))
    form, error = CodeForm(), None
    if form.validate_on_submit():
        if current.method == "sms":
            result = sms.check(user, "login", form.code.data or "")
            ok, error = result == sms.CheckResult.OK, steps.code_error(result)
        else:
            step = totp.matching_step(totp.secret_of(current) or "", form.code.data or "")
            ok = step is not None and totp.accept(current, step)
            error = steps.totp_error()
        if ok:
            steps.succeeded(user)
            audit.record("mfa.success", user=user, method=current.method)
            if form.remember.data:
                remember.remember(user)
            return pipeline.complete(user, state, AMR[current.method])
        if locked := steps.failed(user, current.method, "wrong"):
            return locked
    notice = _not_sent_notice(user) if current.method == "sms" and not state.get("sms_sent") else None
    return _challenge_page(current, form, error, notice)


@bp.route("/resend/login", methods=["POST"])
@signing_in
def resend(user: User, state: dict[str, Any]) -> Response | tuple[str, int]:
    """A new code for this sign-in; a limit or a failing gateway is told on the
    challenge page itself, which keeps the resend and the recovery code."""
    current = enrolment.confirmed(user)
    if not ContinueForm().validate_on_submit() or current is None or current.method != "sms":
        return redirect(url_for("mfa.next_step"))
    if problem := steps.send_code(user, current.phone or "", "login"):
        return _challenge_page(current, CodeForm(formdata=None), notice=problem.message), problem.status
    pipeline.update_pending(sms_sent=True)
    return redirect(url_for("mfa.challenge"))


@bp.route("/resend/enrol", methods=["POST"])
@enrolling
def resend_enrolment(user: User, state: dict[str, Any]) -> Response | tuple[str, int]:
    """A new code to the number this sign-in sent one to, never to another."""
    phone = state.get("sms_phone")
    if not ContinueForm().validate_on_submit() or not phone:
        return redirect(url_for("mfa.setup_sms"))
    if problem := steps.send_code(user, phone, "enrol", pipeline.flow_of(state)):
        return _sms_code_page(CodeForm(formdata=None), phone, notice=problem.message), problem.status
    return redirect(url_for("mfa.setup_sms_verify"))


@bp.route("/recovery", methods=["GET", "POST"])
@signing_in
def use_recovery(user: User, state: dict[str, Any]) -> Response | str:
    current = enrolment.confirmed(user)
    if current is None:
        return redirect(url_for("mfa.setup_sms"))
    form, error = RecoveryCodeForm(), None
    if form.validate_on_submit():
        replacement = recovery.use(current, form.recovery_code.data or "")
        if replacement is not None:
            steps.succeeded(user)
            audit.record("mfa.recovery_code_used", user=user)
            pipeline.update_pending(amr=["pwd", "mfa"], remember=False, recovery=_sealed(replacement))
            return redirect(url_for("mfa.recovery_code"))
        if locked := steps.failed(user, "recovery_code", "wrong"):
            return locked
        error = steps.recovery_error()
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
