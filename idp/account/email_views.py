"""メールアドレス変更 (manual §2.1 (2)): the request from the account menu, and
the page the mailed link opens (also for a change an admin sent, §2.2 (2))."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from ..auth.password_policy import broken_rules
from ..auth.proof import Proof
from ..forms import PAGE_EXPIRED
from ..tenants.permissions import Item
from . import email_change, tickets
from .change_forms import EmailChangeForm
from .email_change import PURPOSE, Refusal
from .forms import RULE_TEXT, ConfirmForm, NewPasswordForm
from .views import requires

bp = Blueprint("account_email", __name__, url_prefix="/account/email")


REFUSALS = {
    Refusal.INVALID: _l("Enter a valid email address."),
    Refusal.MISMATCH: _l("The two email addresses do not match."),
    Refusal.SAME: _l("This is the email address you use now. Enter a new one."),
    Refusal.TOO_MANY: _l("Too many mails for an email address change were sent. Please try again in an hour."),
}


def expired() -> str:
    return str(PAGE_EXPIRED)


@bp.route("", methods=["GET", "POST"])
@requires(Item.EMAIL, reauthenticate=True)
def change(proof: Proof) -> str | tuple[str, int]:
    """The answer is the same whoever has the new address: the mail goes out either way."""
    user = proof.user
    form, error, status = EmailChangeForm(), None, 200
    if form.validate_on_submit():
        address, refusal = email_change.check(user, form.email.data or "", form.email_confirm.data or "")
        if address is not None:
            refusal = email_change.request_change(user, address, actor=user)
            if refusal is None:
                return render_template("account/email_sent.html", address=address)
        error, status = str(REFUSALS[refusal or Refusal.INVALID]), 429 if refusal == Refusal.TOO_MANY else 400
    elif form.is_submitted():
        error, status = expired(), 400
    return render_template("account/email.html", form=form, user=user, error=error), status


def invalid() -> tuple[str, int]:
    """Any failure of the link, an address taken by someone else included."""
    tickets.drop(PURPOSE)
    return render_template("account/link_invalid.html"), 400


@bp.route("/confirm", methods=["GET", "POST"])
def confirm() -> Response | str | tuple[str, int]:
    """メールアドレス変更確認: a new password for a password user, a button for
    others (so that a mail scanner opening the link changes nothing)."""
    moved = tickets.take_from_query(PURPOSE, "account_email.confirm")
    if moved is not None:
        return moved
    ticket = tickets.held(PURPOSE)
    change = email_change.pending(ticket)
    if change is None:
        return invalid()
    form: NewPasswordForm | ConfirmForm = NewPasswordForm() if change.sets_password else ConfirmForm()
    if not form.is_submitted():
        return _confirm_page(form, change)
    if not form.validate():  # only the CSRF token can fail
        return _confirm_page(form, change, [expired()]), 400
    password = None
    if isinstance(form, NewPasswordForm):
        password = form.password.data or ""
        if broken := broken_rules(password, change.address, form.password_confirm.data or ""):
            return _confirm_page(form, change, [str(RULE_TEXT[rule]) for rule in broken])
    done = email_change.confirm(ticket, password)
    if done is None:
        return invalid()
    tickets.drop(PURPOSE)
    return render_template("account/email_done.html", address=done.address)


def _confirm_page(
    form: NewPasswordForm | ConfirmForm, change: email_change.Pending, errors: list[str] | None = None
) -> str:
    return render_template("account/email_confirm.html", form=form, change=change, errors=errors or [])
