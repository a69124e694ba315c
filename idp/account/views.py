"""Account menu (認証・契約情報変更メニュー). Each page shows only what the
signed-in person may do (manual §0)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for
from werkzeug.wrappers import Response

from ..auth import remember, sessions
from ..auth.forms import LogoutForm
from ..auth.proof import Proof
from ..auth.views import line_refused
from ..models import Role, User
from ..tenants import line_policy, lines, policy
from .forms import AccessRouteForm, ConfirmForm, MfaPolicyForm

bp = Blueprint("account", __name__, url_prefix="/account")


def signed_in(view: Callable[..., Any]) -> Callable[..., Any]:
    """A session the tenant's line policy admits to the account menu. A holder
    whose session does not qualify may still sign in again (with the second
    factor) to recover; anyone else sees the line authentication error."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        proof = sessions.current()
        if proof is None:
            return redirect(url_for("auth.login"))
        if not line_policy.admits_account_menu(proof.user, proof.line_id, proof.amr):
            return redirect(url_for("auth.login")) if proof.user.role == Role.HOLDER else line_refused()
        return view(proof, *args, **kwargs)

    return wrapper


@bp.route("")
@signed_in
def index(proof: Proof) -> str:
    user = proof.user
    return render_template(
        "account/index.html",
        user=user,
        may_manage=policy.may_manage_security(user),
        # The admin console refuses a session from outside a line-only tenant's lines.
        is_admin=user.role in (Role.HOLDER, Role.ADMIN) and line_policy.allows(user.tenant, proof.line_id),
        logout_form=LogoutForm(),
        forget_form=ConfirmForm(),
    )


def holder_settings(view: Callable[..., Any]) -> Callable[..., Any]:
    """The contract's security settings: the holder only (manual §0)."""

    @wraps(view)
    @signed_in
    def wrapper(proof: Proof, *args: Any, **kwargs: Any) -> Any:
        if not policy.may_manage_security(proof.user):
            abort(403)
        return view(proof.user, *args, **kwargs)

    return wrapper


@bp.route("/mfa", methods=["GET", "POST"])
@holder_settings
def mfa_policy(user: User) -> Response | str:
    """Manual §5.1: choose, then confirm on a page with the warning and a checkbox."""
    tenant = user.tenant
    form = MfaPolicyForm()
    if not form.is_submitted():
        form.mfa.data = "on" if tenant.mfa_enabled else "off"
    line_only = tenant.access_route == "line-only"
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
    return render_template("account/mfa_policy.html", form=form, line_only=line_only)


@bp.route("/access-route", methods=["GET", "POST"])
@holder_settings
def access_route(user: User) -> Response | str:
    """Manual §4.1: choose the route, confirm, done. Applies to every user of the contract."""
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
