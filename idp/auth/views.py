"""Hosted sign-in pages. Thin: a form, one call into the sign-in service, a redirect."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from . import interactions, sessions
from .forms import LoginForm, LogoutForm
from .login import check_password

bp = Blueprint("auth", __name__)


def _continue(ix: str | None) -> Response:
    """After sign-in: back to the waiting authorization request, or the account menu."""
    return redirect(interactions.resume_url(ix) or url_for("account.index"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | str:
    form = LoginForm()
    if request.method == "GET":
        form.interaction.data = request.args.get("interaction", "")
    error = None
    if form.validate_on_submit():
        user = check_password(form.email.data or "", form.password.data or "")
        if user is not None:
            sessions.start(user, ["pwd"])
            return _continue(form.interaction.data)
        error = _("The email address or password is incorrect.")
    elif form.csrf_token.errors:
        error = _("This page had expired. Please enter your details again.")
    elif request.method == "POST":
        error = _("The email address or password is incorrect.")
    status = 200 if error is None else 401
    return render_template("auth/login.html", form=form, error=error), status


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        sessions.end_current()
    return redirect(url_for("auth.login"))
