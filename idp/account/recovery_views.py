"""Forgot password, reset link, unlock link (manual §6). Every answer is the same
whether or not the account exists."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, render_template, request
from flask_babel import gettext as _
from sqlalchemy import func, select
from werkzeug.wrappers import Response

from .. import audit, clock, db, notify
from ..auth.login import find_user, password_identity
from ..auth.login import unlock as unlock_user
from ..auth.password_policy import broken_rules
from ..models import OneTimeLink, UserStatus
from . import links, messages
from .credentials import reset_password
from .forms import RULE_TEXT, ConfirmForm, ForgotPasswordForm, NewPasswordForm

bp = Blueprint("recovery", __name__)

RESET_MAILS_PER_HOUR = 3


def _recent_resets(user_id: str) -> int:
    since = clock.now() - timedelta(hours=1)
    query = select(func.count(OneTimeLink.id)).where(
        OneTimeLink.user_id == user_id, OneTimeLink.purpose == "reset", OneTimeLink.created_at > since
    )
    return db.session().scalar(query) or 0


@bp.route("/password/forgot", methods=["GET", "POST"])
def forgot() -> str:
    form = ForgotPasswordForm()
    if request.method == "GET" and request.args.get("email"):
        form.email.data = request.args["email"][:254]
    if form.validate_on_submit():
        user = find_user(form.email.data or "")
        # Only accounts that sign in with a password can reset one (manual §6.2).
        eligible = (
            user is not None
            and password_identity(user) is not None
            and user.status
            in (
                UserStatus.ACTIVE,
                UserStatus.LOCKED,
            )
        )
        if user is not None and eligible and _recent_resets(user.id) < RESET_MAILS_PER_HOUR:
            notify.send_mail_after_response(messages.reset_mail(user))
        audit.record("password.reset_requested", user=user if eligible else None)
        return render_template("account/forgot_sent.html")
    return render_template("account/forgot.html", form=form)


@bp.route("/password/reset", methods=["GET", "POST"])
def reset() -> Response | str | tuple[str, int]:
    ticket = request.args.get("ticket", "")
    user = links.peek("reset", ticket)
    if user is None:
        return render_template("account/link_invalid.html"), 400
    form = NewPasswordForm()
    if not form.is_submitted():
        return render_template("account/reset.html", form=form, errors=[])
    if not form.validate():  # only the CSRF token can fail
        expired = _("This page had expired. Please enter your details again.")
        return render_template("account/reset.html", form=form, errors=[expired]), 400
    password = form.password.data or ""
    broken = broken_rules(password, user.email, form.password_confirm.data or "")
    if broken:
        return render_template("account/reset.html", form=form, errors=[RULE_TEXT[rule] for rule in broken])
    # Peeking showed the form; only consuming the link proves this request won it.
    user = links.consume("reset", ticket)
    if user is None:
        return render_template("account/link_invalid.html"), 400
    reset_password(user, password)
    return render_template("account/reset_done.html")


@bp.route("/unlock", methods=["GET", "POST"])
def unlock() -> str | tuple[str, int]:
    """GET shows a button and POST unlocks, so that a mail scanner fetching the
    link does not use it up."""
    ticket = request.args.get("ticket", "")
    if links.peek("unlock", ticket) is None:
        return render_template("account/link_invalid.html"), 400
    form = ConfirmForm()
    if form.validate_on_submit():
        user = links.consume("unlock", ticket)
        if user is None:
            return render_template("account/link_invalid.html"), 400
        unlock_user(user, "unlock_link")
        return render_template("account/unlocked.html")
    return render_template("account/unlock.html", form=form)
