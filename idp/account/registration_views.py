"""The invitation's pages (manual §1.5): 利用者ログイン登録 (choose how to sign
in), 確認, 申込完了, then the login page.

The link's ticket leaves the address on the first GET (``tickets``). The
password chosen on the first page waits, sealed with the ticket it belongs
to, in the session cookie for the confirmation page; only confirming uses
the link."""

from __future__ import annotations

import json

from flask import Blueprint, abort, redirect, render_template, session, url_for
from werkzeug.wrappers import Response

from .. import sealing
from ..auth.password_policy import broken_rules
from ..forms import PAGE_EXPIRED
from ..models import User
from . import methods, registration, tickets
from .forms import RULE_TEXT, ConfirmForm, NewPasswordForm

bp = Blueprint("registration", __name__)

PURPOSE = registration.PURPOSE
PENDING = "invite_pending"
PENDING_TTL = 15 * 60


def _invalid() -> tuple[str, int]:
    """Expired, used or replaced: what to do next, not an error (manual §1.5)."""
    tickets.drop(PURPOSE)
    session.pop(PENDING, None)
    return render_template("account/register_invalid.html"), 400


def _invited() -> Response | User | None:
    moved = tickets.take_from_query(PURPOSE, "registration.register")
    if moved is not None:
        return moved
    return registration.invited_user(tickets.held(PURPOSE))


def _hold_password(password: str) -> None:
    value = json.dumps({"ticket": tickets.held(PURPOSE), "password": password})
    session[PENDING] = sealing.seal(PENDING, value)


def _held_password() -> str | None:
    """The password chosen for the invitation held now, if chosen in the last minutes."""
    value = sealing.unseal(PENDING, session.get(PENDING), max_age=PENDING_TTL)
    if value is None:
        return None
    held = json.loads(value)
    return held["password"] if held.get("ticket") == tickets.held(PURPOSE) else None


def _choice_page(user: User, form: NewPasswordForm, errors: list[str]) -> str:
    others = [m for m in methods.offered(user.tenant, user.role) if m.provider != methods.PASSWORD.provider]
    return render_template(
        "account/register.html", user=user, form=form, errors=errors, others=others, method_form=ConfirmForm()
    )


@bp.route("/register", methods=["GET", "POST"])
def register() -> Response | str | tuple[str, int]:
    user = _invited()
    if isinstance(user, Response):
        return user
    if user is None:
        return _invalid()
    form = NewPasswordForm()
    if not form.is_submitted():
        return _choice_page(user, form, [])
    if not form.validate():  # only the CSRF token can fail
        return _choice_page(user, form, [str(PAGE_EXPIRED)]), 400
    password = form.password.data or ""
    broken = broken_rules(password, user.email, form.password_confirm.data or "")
    if broken:
        return _choice_page(user, form, [str(RULE_TEXT[rule]) for rule in broken])
    _hold_password(password)
    return redirect(url_for("registration.confirm"), 303)


@bp.route("/register/confirm", methods=["GET", "POST"])
def confirm() -> Response | str | tuple[str, int]:
    user = registration.invited_user(tickets.held(PURPOSE))
    if user is None:
        return _invalid()
    password = _held_password()
    if password is None:
        return redirect(url_for("registration.register"), 303)
    form = ConfirmForm()
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("account/register_confirm.html", user=user, form=form), status
    # Showing the pages only peeked; using the link decides which request registers.
    if registration.register_with_password(tickets.held(PURPOSE), password) is None:
        return _invalid()
    tickets.drop(PURPOSE)
    session.pop(PENDING, None)
    return render_template("account/register_done.html")


@bp.route("/register/method/<provider>", methods=["POST"])
def other_method(provider: str) -> Response | tuple[str, int]:
    """Registering with a method other than a password: the method's own sign-in
    (an upstream account, Active Directory) runs in this browser and, told by
    ``register``, finishes the invitation held in this session
    (``tickets.held("invite")``) by linking the identity it proved."""
    user = registration.invited_user(tickets.held(PURPOSE))
    if user is None:
        return _invalid()
    offered = {m.provider for m in methods.offered(user.tenant, user.role)}
    if provider not in offered or provider == methods.PASSWORD.provider:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        return redirect(url_for("registration.register"), 303)
    return redirect(f"/login/{provider}?register={PURPOSE}", 303)
