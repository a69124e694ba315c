"""Account menu (認証・契約情報変更メニュー). Each page shows only what the
signed-in person may do (manual §0)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_babel.speaklater import LazyString
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from .. import audit
from ..auth import interactions, login, remember, sessions
from ..auth.forms import LogoutForm
from ..auth.login import Outcome
from ..auth.proof import Proof
from ..auth.views import line_refused, outcome_message
from ..forms import PAGE_EXPIRED
from ..mfa import enrolment
from ..models import AccessRoute, IdentityKind, Role, User
from ..tenants import line_policy, lines, permissions, policy
from ..tenants.permissions import Group, Item
from . import methods
from .forms import AccessRouteForm, ConfirmForm, MfaPolicyForm, ReauthenticateForm, ResetKeepsTwoStepForm

bp = Blueprint("account", __name__, url_prefix="/account")


# Each menu item's page. A page is listed only once it exists in the app, so
# that the menu never links to a page that is not there.
PAGES: dict[Item, str] = {
    Item.LOGIN_METHOD: "account_method.change",
    Item.EMAIL: "account_email.change",
    Item.PASSWORD: "account_password.change",
    Item.ACCESS_ROUTE: "account.access_route",
    Item.TWO_STEP: "account.mfa_policy",
    Item.ACTIVE_DIRECTORY: "account_ad.settings",
    Item.CONTRACT: "account_contract.details",
    Item.PLAN: "account_contract.plan",
    Item.CANCEL: "account_contract.cancel",
}


# The manual's words (§2.1 (3), §3).
LABELS: dict[Item, LazyString] = {
    Item.LOGIN_METHOD: _l("Login method setting"),
    Item.EMAIL: _l("Change email address"),
    Item.PASSWORD: _l("Change password"),
    Item.ACCESS_ROUTE: _l("Access route setting"),
    Item.TWO_STEP: _l("Two-step verification setting"),
    Item.ACTIVE_DIRECTORY: _l("Active Directory setting"),
    Item.CONTRACT: _l("Contract details"),
    Item.PLAN: _l("Change plan"),
    Item.CANCEL: _l("Cancellation"),
}
HEADINGS: dict[Group, LazyString] = {
    Group.CREDENTIALS: _l("Change your sign-in details"),
    Group.SETTINGS: _l("Sign-in settings of the contract"),
    Group.CONTRACT: _l("Change your contract"),
}
EXPLANATIONS: dict[Group, tuple[LazyString, ...]] = {
    Group.CREDENTIALS: (
        _l("You can change your sign-in details."),
        _l("Change email address changes the email address registered with this service."),
    ),
    Group.SETTINGS: (
        _l("You can check and change the settings of the service under your contract."),
        _l("The sign-in settings apply to every registered user."),
    ),
    Group.CONTRACT: (_l("You can change the details of your contract for this service."),),
}


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """A session the tenant's line policy admits to the account menu, asked on
    every page and every post. Without one, the menu's own login screen
    (manual §2.1 (2)); a holder whose session does not qualify may sign in there
    again to recover (the sign-in says whether a second factor allows it);
    anyone else sees the line authentication error."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        proof = sessions.current()
        if proof is None:
            return redirect(url_for("auth.account_login"))
        if not line_policy.admits_account_menu(proof.user, proof.line_id, proof.amr, proof.auth_time):
            return redirect(url_for("auth.account_login")) if proof.user.role == Role.HOLDER else line_refused()
        return view(proof, *args, **kwargs)

    return wrapper


def requires(item: Item, reauthenticate: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Every page of the account menu: signed in (``signed_in``), then the manual's
    §0 table (``permissions``): a page this person may not use answers 403.
    With ``reauthenticate``, a setting that matters beyond this person also asks
    for the password again once it was given more than ``sessions.RECENT`` ago.
    The view gets ``(proof, *args, **kwargs)``."""

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        @signed_in
        def wrapper(proof: Proof, *args: Any, **kwargs: Any) -> Any:
            if not permissions.may(proof.user, item):
                abort(403)
            if reauthenticate and not sessions.proven_recently(proof):
                return ask_password_again(request.path)
            return view(proof, *args, **kwargs)

        wrapper.reauthenticates = reauthenticate  # type: ignore[attr-defined]
        return wrapper

    return decorate


def ask_password_again(back_to: str) -> Response:
    """Send the person to give the password again, then back to ``back_to`` (a path)."""
    return redirect(url_for("account.reauthenticate", next=back_to))


def way_back(path: str | None) -> str:
    """``path`` if it is a page of ours that asks for the password again (marked
    ``reauthenticates``), else the menu: the page never leads anywhere else."""
    if not path or not path.startswith("/") or path.startswith("//") or "\\" in path:
        return url_for("account.index")
    try:
        endpoint, _args = current_app.url_map.bind("localhost").match(path, method="GET")
    except HTTPException:
        return url_for("account.index")
    view = current_app.view_functions.get(endpoint)
    return path if getattr(view, "reauthenticates", False) is True else url_for("account.index")


@bp.route("")
@signed_in
def index(proof: Proof) -> str:
    user = proof.user
    return render_template(
        "account/index.html",
        user=user,
        groups=menu(user),
        labels=LABELS,
        headings=HEADINGS,
        explanations=EXPLANATIONS,
        top_url=_top_url(),
        # The admin console refuses a session from outside a line-only tenant's lines.
        is_admin=user.role in (Role.HOLDER, Role.ADMIN) and line_policy.allows(user.tenant, proof.line_id),
        has_factor=enrolment.confirmed(user) is not None,
        logout_form=LogoutForm(),
        forget_form=ConfirmForm(),
    )


def menu(user: User) -> list[tuple[Group, list[tuple[Item, str]]]]:
    """Manual §0: the items ``user`` may use, under their headings, each with its
    page's endpoint; a heading without items is left out."""
    groups: dict[Group, list[tuple[Item, str]]] = {}
    for rule in permissions.allowed(user):
        if PAGES[rule.item] in current_app.view_functions:
            groups.setdefault(rule.group, []).append((rule.item, PAGES[rule.item]))
    return list(groups.items())


def _top_url() -> str:
    """「トップ画面へ」: back to the relying party whose sign-in request brought this
    browser here (the request resumes, now signed in); without one, the login page."""
    return interactions.resume_url(interactions.newest()) or url_for("auth.login")


@bp.route("/reauthenticate", methods=["GET", "POST"])
@signed_in
def reauthenticate(proof: Proof) -> Response | tuple[str, int]:
    """The password again before a sensitive setting. It is a sign-in like any
    other: a wrong one counts towards the account lock and the source throttle."""
    target = way_back(request.args.get("next"))
    form, error, status = ReauthenticateForm(), None, 200
    if form.validate_on_submit():
        result = login.sign_in(proof.user.email, form.password.data or "")
        if result.outcome == Outcome.OK and result.user is not None and result.user.id == proof.user.id:
            sessions.reauthenticated(proof)
            audit.record("session.reauthenticated", user=proof.user)
            return redirect(target)
        error, status = outcome_message(result.outcome), 429 if result.outcome == Outcome.THROTTLED else 401
    elif form.csrf_token.errors:
        error, status = str(PAGE_EXPIRED), 400
    elif request.method == "POST":
        error, status = outcome_message(Outcome.BAD_CREDENTIALS), 401
    page = render_template(
        "account/reauthenticate.html",
        form=form,
        user=proof.user,
        error=error,
        has_password=login.password_identity(proof.user) is not None,
        upstreams=_upstreams_of(proof.user),
        back=target,
    )
    return page, status


def _upstreams_of(user: User) -> list[methods.Method]:
    """The upstream or AD accounts ``user`` signs in with that are on offer: each
    can give the sign-in again instead of a password."""
    linked = {i.provider for i in user.identities if i.kind == IdentityKind.UPSTREAM}
    if any(i.kind == IdentityKind.AD for i in user.identities):
        linked.add("ad")
    return [m for m in methods.offered(user.tenant, user.role) if m.provider in linked]


@bp.route("/mfa", methods=["GET", "POST"])
@requires(Item.TWO_STEP, reauthenticate=True)
def mfa_policy(proof: Proof) -> Response | str | tuple[str, int]:
    """Manual §5.1: choose, then confirm on a page with the warning and a checkbox.
    Beside it, whether a password reset keeps the second factor."""
    user = proof.user
    tenant = user.tenant
    if request.form.get("stage") == "reset":
        return _reset_keeps_two_step(user)
    form = MfaPolicyForm()
    if not form.is_submitted():
        form.mfa.data = "on" if tenant.mfa_enabled else "off"
    line_only = tenant.access_route == AccessRoute.LINE_ONLY
    if form.validate_on_submit() and not line_only:
        wanted = form.mfa.data == "on"
        if form.stage.data == "confirm" and form.confirmed.data:
            policy.set_mfa(tenant, wanted, actor=user)
            return render_template("account/mfa_policy_done.html", enabled=wanted)
        return render_template(
            "account/mfa_policy_confirm.html",
            form=form,
            current=tenant.mfa_enabled,
            wanted=wanted,
            unconfirmed=form.stage.data == "confirm",
        )
    return _mfa_page(user, form)


def _reset_keeps_two_step(user: User) -> str | tuple[str, int]:
    form = ResetKeepsTwoStepForm()
    if not form.validate_on_submit():  # only the CSRF token can fail
        expired = str(PAGE_EXPIRED)
        return _mfa_page(user, MfaPolicyForm(formdata=None), reset_error=expired), 400
    policy.set_reset_keeps_two_step(user.tenant, bool(form.reset_keeps_two_step.data), actor=user)
    return _mfa_page(user, MfaPolicyForm(formdata=None), reset_saved=True)


def _mfa_page(user: User, form: MfaPolicyForm, reset_saved: bool = False, reset_error: str | None = None) -> str:
    tenant = user.tenant
    if form.mfa.data is None:
        form.mfa.data = "on" if tenant.mfa_enabled else "off"
    reset_form = ResetKeepsTwoStepForm(formdata=None, reset_keeps_two_step=tenant.reset_keeps_two_step)
    return render_template(
        "account/mfa_policy.html",
        form=form,
        line_only=tenant.access_route == AccessRoute.LINE_ONLY,
        reset_form=reset_form,
        reset_saved=reset_saved,
        reset_error=reset_error,
    )


@bp.route("/access-route", methods=["GET", "POST"])
@requires(Item.ACCESS_ROUTE, reauthenticate=True)
def access_route(proof: Proof) -> Response | str:
    """Manual §4.1: choose the route, confirm, done. Applies to every user of the
    contract. From the internet, a line-only tenant's holder got here only with a
    second factor that may undo line-only (``signed_in`` asks on every post)."""
    user = proof.user
    tenant = user.tenant
    form = AccessRouteForm()
    if not form.is_submitted():
        form.route.data = tenant.access_route
    if form.validate_on_submit():
        wanted = form.route.data or tenant.access_route
        if form.stage.data == "confirm":
            policy.set_access_route(tenant, wanted, actor=user)
            return render_template("account/access_route_done.html", route=wanted)
        return render_template(
            "account/access_route_confirm.html",
            form=form,
            current=tenant.access_route,
            wanted=wanted,
            numbers=lines.numbers(tenant),
        )
    return render_template("account/access_route.html", form=form)


@bp.route("/forget-browser", methods=["POST"])
@signed_in
def forget_browser(proof: Proof) -> Response:
    if ConfirmForm().validate_on_submit():
        remember.forget_this_browser()
    return redirect(url_for("account.index"))
