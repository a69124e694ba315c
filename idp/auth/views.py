"""Hosted sign-in pages. Thin: a form, one call into the sign-in service, a redirect."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from .. import audit
from ..federation import broker as upstreams
from ..forms import PAGE_EXPIRED
from ..models import Role, User
from ..tenants import admission, line_policy, plans
from . import interactions, pipeline, sessions
from .forms import LoginForm, LogoutForm
from .login import Outcome, sign_in
from .throttle import SOURCE_WINDOW

bp = Blueprint("auth", __name__)


def outcome_message(outcome: Outcome) -> str:
    return {
        Outcome.BAD_CREDENTIALS: _("The email address or password is incorrect."),
        # The manual's wording (§6).
        Outcome.LOCKED: _(
            "Your account has been blocked because of repeated failed login attempts. "
            "We have sent you a mail to unblock it; please check it."
        ),
        # The login page adds what to do (auth/login.html).
        Outcome.THROTTLED: _("Too many failed logins came from your network, so logins from it are paused."),
    }[outcome]


@bp.route("/login", methods=["GET", "POST"])
def login() -> Response | tuple[str, int]:
    return _login_page(for_account=False)


@bp.route("/account/login", methods=["GET", "POST"])
def account_login() -> Response | tuple[str, int]:
    """Manual §2.1 (2): the account menu's own login screen (認証・契約情報変更ログイン).
    The same sign-in; it leads to the menu, never back to a relying party."""
    return _login_page(for_account=True)


def _login_page(for_account: bool) -> Response | tuple[str, int]:
    form = LoginForm()
    if request.method == "GET" and not for_account:
        form.interaction.data = request.args.get("interaction", "")
    error, status, wait = None, 200, None
    if form.validate_on_submit():
        result = sign_in(form.email.data or "", form.password.data or "")
        if result.outcome == Outcome.OK and result.user is not None:
            return after_first_factor(result.user, None if for_account else form.interaction.data or None)
        if result.outcome == Outcome.LINE_REQUIRED:
            return line_refused()
        error, status = outcome_message(result.outcome), 401
        if result.outcome == Outcome.THROTTLED:
            # The throttle counts in fixed windows: the next one starts within this many minutes.
            status, wait = 429, SOURCE_WINDOW // timedelta(minutes=1)
    elif form.csrf_token.errors:
        error, status = str(PAGE_EXPIRED), 400
    elif request.method == "POST":
        error, status = outcome_message(Outcome.BAD_CREDENTIALS), 401
    page = render_template(
        "auth/login.html",
        form=form,
        error=error,
        wait_minutes=wait,
        for_account=for_account,
        upstreams=upstreams.offered(),
        # Back to the ordinary login, resuming the relying party's request that sent this browser, if any.
        login_url=url_for("auth.login", interaction=interactions.newest()) if for_account else None,
    )
    return page, status


def after_first_factor(user: User, ix: str | None, upstream_amr: list[str] | None = None) -> Response | tuple[str, int]:
    """After a right password, or an upstream or AD account's sign-in (``upstream_amr``:
    ``fed``, ``saml`` or ``ldap`` first).

    Line authentication decides before anything else: a line-only tenant admits
    only its registered lines, except its holder coming to the account menu to
    switch the route back (manual §4.2), who then gives a second factor that may
    undo line-only (the pipeline decides, and audits, which); that recovery needs
    a factor of ours, so it is not open to an upstream sign-in. A tenant out of
    service admits nobody, except a trial's holder coming to change the plan
    within the grace days (manual §0 ※1), whom the sign-in leads there only."""
    method = "pwd" if upstream_amr is None else upstream_amr[0]
    if not admission.may_sign_in(user):
        standing = plans.standing(user.tenant)
        audit.record("login.refused", user=user, method=method, reason=standing.value.replace("-", "_"))
        return out_of_service(user)
    if admission.changes_plan_only(user):
        ix = None
    line_id = line_policy.line_of_request(user)
    if line_policy.allows(user.tenant, line_id):
        if upstream_amr is not None:
            # The upstream did its own second step, if any (manual §5): none is asked here.
            return pipeline.finish(user, [*upstream_amr, *(["line"] if line_id else [])], ix, line_id)
        return pipeline.after_password(user, ix, line_id)
    if upstream_amr is None and user.role == Role.HOLDER and not interactions.get(ix):
        return pipeline.after_password(user, None, holder_recovery=True)
    audit.record("login.refused", user=user, method=method, reason="line_required")
    return line_refused()


def out_of_service(user: User) -> tuple[str, int]:
    """The tenant's trial has ended, or the contract was cancelled: nobody of it
    signs in (manual §0 ※1 ※2)."""
    page = render_template(
        "auth/contract_ended.html", standing=plans.standing(user.tenant), grace_days=plans.grace_days()
    )
    return page, 403


def line_refused() -> tuple[str, int]:
    """The manual's line authentication error (§1.4), naming the two things to check."""
    return render_template("auth/line_error.html"), 403


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    if LogoutForm().validate_on_submit():
        sessions.end_current()
    return redirect(url_for("auth.login"))
