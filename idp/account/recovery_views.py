"""Forgot password, reset link, unlock link (manual §6). Every answer is the same
whether or not the account exists.

A mailed link's ticket leaves the address on the first GET (idp/account/tickets.py)."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, render_template, request
from werkzeug.wrappers import Response

from .. import notify
from ..auth.login import unlock as unlock_user
from ..auth.password_policy import broken_rules
from ..forms import PAGE_EXPIRED
from . import links, tickets
from .credentials import request_reset, reset_password
from .forms import RULE_TEXT, ConfirmForm, ForgotPasswordForm, NewPasswordForm

bp = Blueprint("recovery", __name__)


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot() -> str:
    form = ForgotPasswordForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"][:254]
    if form.validate_on_submit():
        # Everything that depends on the account happens after the response.
        notify.after_response(partial(request_reset, form.email.data or ""))
        return render_template("account/forgot_sent.html")
    return render_template("account/forgot.html", form=form)


def _invalid(purpose: str) -> tuple[str, int]:
    tickets.drop(purpose)
    return render_template("account/link_invalid.html"), 400


@bp.route("/password/reset", methods=["GET", "POST"])
def reset() -> Response | str | tuple[str, int]:
    user = tickets.link_user("reset", "recovery.reset")
    if isinstance(user, Response):
        return user
    if user is None:
        return _invalid("reset")
    form = NewPasswordForm()
    if not form.is_submitted():
        return render_template("account/reset.html", form=form, errors=[])
    if not form.validate():  # only the CSRF token can fail
        expired = str(PAGE_EXPIRED)
        return render_template("account/reset.html", form=form, errors=[expired]), 400
    password = form.password.data or ""
    broken = broken_rules(password, user.email, form.password_confirm.data or "")
    if broken:
        return render_template("account/reset.html", form=form, errors=[RULE_TEXT[rule] for rule in broken])
    # Peeking showed the form; only consuming the link proves this request won it.
    user = links.consume("reset", tickets.held("reset"))
    if user is None:
        return _invalid("reset")
    kept = reset_password(user, password)
    tickets.drop("reset")
    return render_template("account/reset_done.html", two_step_kept=kept)


@bp.route("/unlock", methods=["GET", "POST"])
def unlock() -> Response | str | tuple[str, int]:
    """GET shows a button and POST unlocks, so that a mail scanner fetching the
    link does not use it up."""
    user = tickets.link_user("unlock", "recovery.unlock")
    if isinstance(user, Response):
        return user
    if user is None:
        return _invalid("unlock")
    form = ConfirmForm()
    if form.validate_on_submit():
        user = links.consume("unlock", tickets.held("unlock"))
        if user is None:
            return _invalid("unlock")
        unlock_user(user, "unlock_link")
        tickets.drop("unlock")
        return render_template("account/unlocked.html")
    return render_template("account/unlock.html", form=form)
