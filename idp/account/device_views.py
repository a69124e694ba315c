"""Changing the two-step verification device (manual §1.1 ③, §5.2): a signed-in
person proves the factor they have (a code sent to the current phone, the
current authenticator code, or the recovery code), enrols the new phone or
authenticator like at a first sign-in (idp/mfa/steps.py), and is shown the
new recovery code once. Audited, and mailed to the person.

What the change has proven and shown lives sealed in the session cookie,
bound to this browser session, for a quarter of an hour. The old factor is
replaced by one conditional DELETE (enrolment.replace): a recovery code
proves one change, and of two racing changes one wins."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, redirect, render_template, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import audit, notify, sealing
from ..auth.proof import Proof
from ..hashing import new_token
from ..mfa import enrolment, recovery, sms, steps, totp
from ..mfa.forms import CodeForm, ContinueForm, PhoneForm, RecoveryCodeForm, SavedForm
from ..models import MfaEnrolment, User
from ..tenants import line_policy
from . import messages
from .views import signed_in

bp = Blueprint("account_device", __name__, url_prefix="/account/two-step-device")

_KEY = "device_change"
TTL = 15 * 60


# -- the change's state, sealed in the session -----------------------------------------


def _state(proof: Proof) -> dict[str, Any]:
    """This browser session's change in progress (a new one if none fits)."""
    raw = sealing.unseal(_KEY, session.get(_KEY), TTL)
    state = json.loads(raw) if raw else {}
    if state.get("uid") != proof.user.id or state.get("sid") != proof.session_id:
        state = {"uid": proof.user.id, "sid": proof.session_id, "flow": new_token(18)}
        _save(state)
    return state


def _save(state: dict[str, Any]) -> None:
    session[_KEY] = sealing.seal(_KEY, json.dumps(state))


def _update(state: dict[str, Any], **changes: Any) -> None:
    state.update(changes)
    _save(state)


def changing(view: Callable[..., Any]) -> Callable[..., Any]:
    """Signed in over a route the tenant admits. A line-only tenant's holder signed
    in from the internet (manual §4.2) holds the one factor that leads back to the
    access route setting: replacing it from there would close that way, since a
    factor enrolled from the internet after the switch does not qualify."""

    @wraps(view)
    @signed_in
    def wrapper(proof: Proof, *args: Any, **kwargs: Any) -> Any:
        if not line_policy.allows(proof.user.tenant, proof.line_id):
            audit.record("mfa.device_change_refused", user=proof.user, why="line_only")
            return render_template("account/device_refused.html"), 403
        return view(proof, *args, **kwargs)

    return wrapper


def _heading() -> str:
    return _("Change of two-step verification device")


# -- 1. the factor the person has ---------------------------------------------------------


def _prove_page(current: MfaEnrolment, state: dict[str, Any], form: CodeForm, **extra: Any) -> str:
    return render_template(
        "account/device.html", current=current, form=form, sent=bool(state.get("code_sent")), **extra
    )


@bp.route("", methods=["GET", "POST"])
@changing
def change(proof: Proof) -> Response | str | tuple[str, int]:
    user, state = proof.user, _state(proof)
    current = enrolment.confirmed(user)
    if current is None:
        return render_template("account/device_none.html")
    form, error = CodeForm(), None
    if form.validate_on_submit():
        if current.method == "sms":
            result, _phone = sms.check_in_flow(user, "device", state["flow"], current.phone or "", form.code.data or "")
            ok, error = result == sms.CheckResult.OK, steps.code_error(result)
        else:
            step = totp.matching_step(totp.secret_of(current) or "", form.code.data or "")
            ok, error = step is not None and totp.accept(current, step), steps.totp_error()
        if ok:
            return _proven(user, state, current, current.method)
        if locked := steps.failed(user, current.method, "wrong"):
            return locked
    return _prove_page(current, state, form, error=error)


@bp.route("/send", methods=["POST"])
@changing
def send(proof: Proof) -> Response | tuple[str, int]:
    """A code to the current phone, for this change only."""
    user, state = proof.user, _state(proof)
    current = enrolment.confirmed(user)
    if not ContinueForm().validate_on_submit() or current is None or current.method != "sms":
        return redirect(url_for("account_device.change"))
    if problem := steps.send_code(user, current.phone or "", "device", state["flow"]):
        return _prove_page(current, state, CodeForm(formdata=None), notice=problem.message), problem.status
    _update(state, code_sent=True)
    return redirect(url_for("account_device.change"))


@bp.route("/recovery", methods=["GET", "POST"])
@changing
def use_recovery(proof: Proof) -> Response | str:
    """The recovery code instead (the device is lost). It is used up only when the
    new device replaces the old one."""
    user, state = proof.user, _state(proof)
    current = enrolment.confirmed(user)
    if current is None:
        return redirect(url_for("account_device.change"))
    form, error = RecoveryCodeForm(), None
    if form.validate_on_submit():
        if recovery.is_code(current, form.recovery_code.data or ""):
            return _proven(user, state, current, "recovery_code", current.recovery_code_hash)
        if locked := steps.failed(user, "recovery_code", "wrong"):
            return locked
        error = steps.recovery_error()
    return render_template("mfa/recovery.html", form=form, error=error)


def _proven(
    user: User, state: dict[str, Any], current: MfaEnrolment, how: str, recovery_hash: str | None = None
) -> Response:
    steps.succeeded(user)
    audit.record("mfa.device_change_proven", user=user, method=how)
    _update(state, proven={"id": current.id, "hash": recovery_hash}, sms_phone=None, totp_shown=None)
    return redirect(url_for("account_device.new_sms"))


# -- 2. the new device, as at a first sign-in (SMS first, manual §1.1) ---------------------


def _proven_state(proof: Proof) -> tuple[dict[str, Any], MfaEnrolment] | None:
    state = _state(proof)
    current = enrolment.confirmed(proof.user)
    proven = state.get("proven") or {}
    if current is None or proven.get("id") != current.id:
        return None
    return state, current


def _sms_page(form: PhoneForm, error: str | None = None) -> str:
    return render_template(
        "mfa/setup_sms.html",
        form=form,
        error=error,
        sent_to=None,
        why=None,
        heading=_heading(),
        verify_url=url_for("account_device.new_sms_verify"),
        totp_url=url_for("account_device.new_totp"),
    )


@bp.route("/new", methods=["GET", "POST"])
@changing
def new_sms(proof: Proof) -> Response | str:
    found = _proven_state(proof)
    if found is None:
        return redirect(url_for("account_device.change"))
    state, _current = found
    form, error = PhoneForm(), None
    if form.validate_on_submit():
        phone = sms.normalize_phone(form.phone.data or "")
        if phone is None:
            error = _("Enter the number of a mobile phone that can receive SMS, such as 090-1234-5678.")
        elif (problem := steps.send_code(proof.user, phone, "enrol", state["flow"])) is None:
            _update(state, sms_phone=phone)
            return redirect(url_for("account_device.new_sms_verify"))
        else:
            error = problem.message
    return _sms_page(form, error)


def _code_page(form: CodeForm, phone: str, error: str | None = None, notice: str | None = None) -> str:
    return render_template(
        "mfa/code.html",
        form=form,
        error=error,
        notice=notice,
        method="sms",
        phone=phone,
        heading=_heading(),
        action=url_for("account_device.new_sms_verify"),
        resend=url_for("account_device.new_sms_resend"),
        recovery_url=None,
        remember=False,
    )


@bp.route("/new/verify", methods=["GET", "POST"])
@changing
def new_sms_verify(proof: Proof) -> Response | str | tuple[str, int]:
    found = _proven_state(proof)
    if found is None:
        return redirect(url_for("account_device.change"))
    state, current = found
    phone = state.get("sms_phone")
    if not phone:
        return redirect(url_for("account_device.new_sms"))
    form, error = CodeForm(), None
    if form.validate_on_submit():
        result, sent_to = sms.check_enrolment(proof.user, state["flow"], phone, form.code.data or "")
        if sent_to is not None:
            return _replace(proof, state, current, "sms", phone=sent_to)
        if locked := steps.failed(proof.user, "sms", result.value):
            return locked
        error = steps.code_error(result)
    return _code_page(form, phone, error)


@bp.route("/new/resend", methods=["POST"])
@changing
def new_sms_resend(proof: Proof) -> Response | tuple[str, int]:
    found = _proven_state(proof)
    phone = found[0].get("sms_phone") if found else None
    if found is None or not phone or not ContinueForm().validate_on_submit():
        return redirect(url_for("account_device.change"))
    if problem := steps.send_code(proof.user, phone, "enrol", found[0]["flow"]):
        return _code_page(CodeForm(formdata=None), phone, notice=problem.message), problem.status
    return redirect(url_for("account_device.new_sms_verify"))


def _totp_page(form: CodeForm, shown: steps.ShownSecret | None, error: str | None = None) -> str:
    return render_template(
        "mfa/setup_totp.html",
        form=form,
        error=error,
        uri=shown.uri if shown else None,
        qr=shown.qr if shown else None,
        secret=shown.secret if shown else None,
        heading=_heading(),
        new_qr_url=url_for("account_device.new_totp"),
        sms_url=url_for("account_device.new_sms"),
        remember=False,
    )


@bp.route("/new/totp", methods=["GET", "POST"])
@changing
def new_totp(proof: Proof) -> Response | str | tuple[str, int]:
    """Each display a new secret, sealed for this change only (as at a sign-in)."""
    found = _proven_state(proof)
    if found is None:
        return redirect(url_for("account_device.change"))
    state, current = found
    form = CodeForm()
    if not form.is_submitted():
        shown = steps.show_new_secret(state["flow"], proof.user.email)
        _update(state, totp_shown=shown.sealed)
        return _totp_page(form, shown)
    secret = totp.unseal_shown(state["flow"], state.get("totp_shown"), TTL)
    if secret is None:
        return redirect(url_for("account_device.new_totp"))
    error = None
    if form.validate_on_submit():
        step = totp.matching_step(secret, form.code.data or "")
        if step is not None:
            return _replace(proof, state, current, "totp", totp_secret=secret, totp_step=step)
        if locked := steps.failed(proof.user, "otp", "wrong"):
            return locked
        error = steps.totp_error()
    return _totp_page(form, None, error)


def _replace(
    proof: Proof, state: dict[str, Any], current: MfaEnrolment, method: str, **factor: Any
) -> Response | tuple[str, int]:
    user = proof.user
    code = enrolment.replace(
        user, current, method, recovery_hash=state["proven"].get("hash"), line_id=proof.line_id, **factor
    )
    if code is None:  # another change, or a sign-in using the recovery code, came first
        _update(state, proven=None, sms_phone=None, totp_shown=None)
        now = enrolment.confirmed(user)
        if now is None:
            return render_template("account/device_none.html"), 409
        error = _("The device was changed meanwhile, or the recovery code was used. Please start again.")
        return _prove_page(now, state, CodeForm(formdata=None), error=error), 409
    steps.succeeded(user)
    audit.record("mfa.device_changed", user=user, previous=current.method, method=method)
    notify.send_mail_after_response(messages.device_changed_mail(user, method))
    _update(state, proven=None, sms_phone=None, totp_shown=None, recovery=code)
    return redirect(url_for("account_device.recovery_code"))


# -- 3. the new recovery code, once -------------------------------------------------------


@bp.route("/recovery-code", methods=["GET", "POST"])
@changing
def recovery_code(proof: Proof) -> Response | str:
    state = _state(proof)
    code = state.get("recovery")
    if not code:
        return redirect(url_for("account_device.change"))
    form = SavedForm()
    if form.validate_on_submit():
        session.pop(_KEY, None)
        return render_template("account/device_done.html")
    return render_template("mfa/recovery_code.html", form=form, code=code)
