"""Admin console pages. Holders and admins of a tenant only (manual §4.2)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from ..account.views import ask_password_again
from ..auth import sessions
from ..auth.views import line_refused
from ..forms import PAGE_EXPIRED
from ..models import Role, User
from ..tenants import line_policy, lines
from ..tenants.lines import LineRefused, Refusal
from .forms import LineForm, RemoveLineForm

bp = Blueprint("admin", __name__, url_prefix="/admin")

REFUSALS = {
    Refusal.EMPTY: _l("Enter a line number."),
    Refusal.PREFIX: _l("A line number starts with CAF or COP."),
    Refusal.SHAPE: _l("A line number is CAF followed by 10 letters or digits, or COP followed by 8."),
    Refusal.DUPLICATE: _l("This line number is already registered."),
}


def administrator(view: Callable[..., Any]) -> Callable[..., Any]:
    """Holders and admins, signed in over a route their tenant admits. The
    holder's sign-in from outside a line-only tenant's lines is for the
    account menu alone (switching the route back), not for this console.

    Every change made here (an invitation, a role, a deactivation, a reset, a
    mail that changes someone's sign-in, a line number) asks for the password
    again once it was given more than ``sessions.RECENT`` ago: a stolen cookie
    alone must not invite its thief or take over a colleague's account."""

    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        proof = sessions.current()
        if proof is None:
            return redirect(url_for("auth.login"))
        if proof.user.role not in (Role.HOLDER, Role.ADMIN):
            abort(403)
        if not line_policy.allows(proof.user.tenant, proof.line_id):
            return line_refused()
        if request.method == "POST" and not sessions.proven_recently(proof):
            return ask_password_again(_page_of(request.path))
        return view(proof.user, *args, **kwargs)

    wrapper.reauthenticates = True  # type: ignore[attr-defined]
    return wrapper


def _page_of(path: str) -> str:
    """The page a post came from: its own path, or for an action posted to
    ``<page>/<action>``, the page."""
    try:
        current_app.url_map.bind("localhost").match(path, method="GET")
        return path
    except HTTPException:
        return path.rsplit("/", 1)[0]


@bp.route("")
@administrator
def index(user: User) -> str:
    return render_template("admin/index.html")


@bp.route("/lines", methods=["GET", "POST"])
@administrator
def line_settings(user: User) -> tuple[str, int]:
    tenant = user.tenant
    form, error, added, status = LineForm(), None, None, 200
    if form.validate_on_submit():
        try:
            added = lines.add(tenant, form.number.data or "", actor=user)
        except LineRefused as refused:
            error, status = str(REFUSALS[refused.reason]), 400
    elif form.is_submitted():
        error, status = str(PAGE_EXPIRED), 400
    page = render_template(
        "admin/lines.html",
        tenant=tenant,
        numbers=lines.numbers(tenant),
        form=form,
        remove_form=RemoveLineForm(),
        error=error,
        added=added,
    )
    return page, status


@bp.route("/lines/remove", methods=["POST"])
@administrator
def remove_line(user: User) -> Response:
    form = RemoveLineForm()
    if form.validate_on_submit():
        try:
            lines.remove(user.tenant, form.number.data or "", actor=user)
        except LineRefused:
            pass  # already gone: the list shows the truth
    return redirect(url_for("admin.line_settings"))
