"""ログイン方法の設定 (manual §2.1 (1)): from the account menu, with the password
given within the last few minutes for every change; and from the mail an admin
sent (§2.2 (1)), without a session, the mailed link standing in for it."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from ..auth.password_policy import broken_rules
from ..auth.proof import Proof
from ..models import Role, User
from ..tenants.permissions import Item
from . import links, login_method, methods, tickets
from .change_forms import MethodChoiceForm
from .email_views import expired
from .forms import RULE_TEXT, NewPasswordForm
from .login_method import PURPOSE, MethodRefused, Refusal
from .views import requires

bp = Blueprint("account_method", __name__, url_prefix="/account/login-method")

REFUSALS = {
    Refusal.NOT_OFFERED: _l("This login method cannot be chosen."),
    Refusal.HOLDER_AD: _l("The contract holder cannot choose an Active Directory account."),
    Refusal.FACEBOOK_TO_FACEBOOK: _l(
        "A registered Facebook account cannot be switched to a different Facebook account. "
        "To use another Facebook account, change to another login method first."
    ),
    Refusal.TAKEN: _l("This account is already used by another user to log in."),
}


# -- from the account menu ------------------------------------------------------------


@bp.route("", methods=["GET", "POST"])
@requires(Item.LOGIN_METHOD, reauthenticate=True)
def change(proof: Proof) -> Response | str | tuple[str, int]:
    user = proof.user
    return _choose(user, "account_method.password", ticket=None)


@bp.route("/password", methods=["GET", "POST"])
@requires(Item.LOGIN_METHOD, reauthenticate=True)
def password(proof: Proof) -> str | tuple[str, int]:
    """メールアドレス・パスワード認証の設定."""
    user = proof.user
    return _set_password(user, url_for("account_method.change"), ticket=None)


# -- from an admin's mail (purpose "login_method"), no session --------------------------


def _mailed_user() -> Response | User | None:
    """The redirect that moves the ticket out of the URL, or the user of the held link."""
    moved = tickets.take_from_query(PURPOSE, "account_method.by_mail")
    return moved if moved is not None else links.peek(PURPOSE, tickets.held(PURPOSE))


def _invalid() -> tuple[str, int]:
    tickets.drop(PURPOSE)
    return render_template("account/link_invalid.html"), 400


@bp.route("/mail", methods=["GET", "POST"])
def by_mail() -> Response | str | tuple[str, int]:
    user = _mailed_user()
    if isinstance(user, Response):
        return user
    if user is None:
        return _invalid()
    return _choose(user, "account_method.by_mail_password", ticket=tickets.held(PURPOSE))


@bp.route("/mail/password", methods=["GET", "POST"])
def by_mail_password() -> str | tuple[str, int]:
    user = links.peek(PURPOSE, tickets.held(PURPOSE))
    if user is None:
        return _invalid()
    return _set_password(user, url_for("account_method.by_mail"), ticket=tickets.held(PURPOSE))


# -- the two steps, alike for both ways in -----------------------------------------------


def _choose(user: User, password_endpoint: str, ticket: str | None) -> Response | str | tuple[str, int]:
    """The choice: email and password opens its page; another method starts its
    sign-in, whose account the broker then links (login_method.start_link)."""
    form = MethodChoiceForm()
    if form.validate_on_submit():
        provider = form.provider.data or ""
        if provider == methods.PASSWORD.provider and not login_method.refusal(user, provider):
            return redirect(url_for(password_endpoint))
        try:
            return redirect(login_method.start_link(user, provider, ticket))
        except MethodRefused as refused:
            return _choice_page(user, form, ticket, str(REFUSALS[refused.reason])), 400
    if form.is_submitted():
        return _choice_page(user, form, ticket, expired()), 400
    return _choice_page(user, form, ticket)


def _choice_page(user: User, form: MethodChoiceForm, ticket: str | None, error: str | None = None) -> str:
    current = methods.current(user)
    return render_template(
        "account/method.html",
        user=user,
        form=form,
        error=error,
        current=current,
        current_label=login_method.label(user, current),
        choices=login_method.choices(user),
        holder=user.role == Role.HOLDER,
        from_menu=ticket is None,
    )


def _set_password(user: User, back: str, ticket: str | None) -> str | tuple[str, int]:
    form, errors = NewPasswordForm(), []
    if form.is_submitted() and not form.validate():  # only the CSRF token can fail
        return _password_page(user, form, back, [expired()]), 400
    if form.is_submitted():
        password = form.password.data or ""
        errors = [str(RULE_TEXT[rule]) for rule in broken_rules(password, user.email, form.password_confirm.data or "")]
        if not errors:
            return _password_set(user, password, ticket)
    return _password_page(user, form, back, errors)


def _password_set(user: User, password: str, ticket: str | None) -> str | tuple[str, int]:
    if ticket is not None:
        # Peeking showed the pages; only consuming the link proves this request won it.
        if links.consume(PURPOSE, ticket) is None:
            return _invalid()
        tickets.drop(PURPOSE)
    try:
        login_method.use_password(user, password)
    except MethodRefused:
        abort(403)  # nothing is committed: the link stays unused
    return render_template("account/method_done.html")


def _password_page(user: User, form: NewPasswordForm, back: str, errors: list[str]) -> str:
    return render_template("account/method_password.html", user=user, form=form, back=back, errors=errors)
