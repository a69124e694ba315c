"""Forgot password, reset link, unlock link (manual §6). Every answer is the same
whether or not the account exists.

A mailed link carries its ticket in the query. The first GET moves it into the
session cookie, sealed, and redirects to the bare page, so that the ticket
never sits in the address bar, the history, a Referer or an access log line."""

from __future__ import annotations

from functools import partial

from flask import Blueprint, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import notify, sealing
from ..auth.login import unlock as unlock_user
from ..auth.password_policy import broken_rules
from ..models import User
from . import links
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


def _session_key(purpose: str) -> str:
    return f"{purpose}_ticket"


def _take_ticket_from_query(purpose: str, endpoint: str) -> Response | None:
    """Keep a ticket from the query in the session; unless the form is posted,
    redirect to the bare page."""
    if "ticket" not in request.args:
        return None
    ticket = request.args["ticket"][:128]
    session[_session_key(purpose)] = sealing.seal(_session_key(purpose), ticket)
    if request.method != "POST":
        return redirect(url_for(endpoint), 303)
    return None  # a form posted from a page opened before the ticket was moved


def _held_ticket(purpose: str) -> str | None:
    return sealing.unseal(_session_key(purpose), session.get(_session_key(purpose)))


def _drop_ticket(purpose: str) -> None:
    session.pop(_session_key(purpose), None)


def _invalid(purpose: str) -> tuple[str, int]:
    _drop_ticket(purpose)
    return render_template("account/link_invalid.html"), 400


def _link_user(purpose: str, endpoint: str) -> Response | User | None:
    """The redirect that moves a ticket out of the URL, or the user of the held link."""
    moved = _take_ticket_from_query(purpose, endpoint)
    if moved is not None:
        return moved
    return links.peek(purpose, _held_ticket(purpose))


@bp.route("/password/reset", methods=["GET", "POST"])
def reset() -> Response | str | tuple[str, int]:
    user = _link_user("reset", "recovery.reset")
    if isinstance(user, Response):
        return user
    if user is None:
        return _invalid("reset")
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
    user = links.consume("reset", _held_ticket("reset"))
    if user is None:
        return _invalid("reset")
    kept = reset_password(user, password)
    _drop_ticket("reset")
    return render_template("account/reset_done.html", two_step_kept=kept)


@bp.route("/unlock", methods=["GET", "POST"])
def unlock() -> Response | str | tuple[str, int]:
    """GET shows a button and POST unlocks, so that a mail scanner fetching the
    link does not use it up."""
    user = _link_user("unlock", "recovery.unlock")
    if isinstance(user, Response):
        return user
    if user is None:
        return _invalid("unlock")
    form = ConfirmForm()
    if form.validate_on_submit():
        user = links.consume("unlock", _held_ticket("unlock"))
        if user is None:
            return _invalid("unlock")
        unlock_user(user, "unlock_link")
        _drop_ticket("unlock")
        return render_template("account/unlocked.html")
    return render_template("account/unlock.html", form=form)
