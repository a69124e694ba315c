"""Admin console pages. Holders and admins of a tenant only (manual §4.2)."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from ..auth import sessions
from ..models import Role, User
from ..tenants import lines
from ..tenants.policy import PolicyError
from .forms import LineForm, RemoveLineForm

bp = Blueprint("admin", __name__, url_prefix="/admin")


def administrator(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        proof = sessions.current()
        if proof is None:
            return redirect(url_for("auth.login"))
        if proof.user.role not in (Role.HOLDER, Role.ADMIN):
            abort(403)
        return view(proof.user, *args, **kwargs)

    return wrapper


@bp.route("")
@administrator
def index(user: User) -> Response:
    return redirect(url_for("admin.line_settings"))


@bp.route("/lines", methods=["GET", "POST"])
@administrator
def line_settings(user: User) -> str:
    tenant = user.tenant
    form, remove_form, error, added = LineForm(), RemoveLineForm(prefix="remove"), None, None
    if form.validate_on_submit():
        try:
            added = lines.add(tenant, form.number.data or "", actor=user)
        except PolicyError as e:
            error = refusal_text(str(e))
    return render_template(
        "admin/lines.html",
        tenant=tenant,
        numbers=lines.numbers(tenant),
        form=form,
        remove_form=remove_form,
        error=error,
        added=added,
    )


@bp.route("/lines/remove", methods=["POST"])
@administrator
def remove_line(user: User) -> Response:
    form = RemoveLineForm(prefix="remove")
    if form.validate_on_submit():
        try:
            lines.remove(user.tenant, form.number.data or "", actor=user)
        except PolicyError:
            pass  # already gone: the list shows the truth
    return redirect(url_for("admin.line_settings"))


def refusal_text(reason: str) -> str:
    """The page's wording for why a number was refused."""
    if reason.endswith("is already registered"):
        return _("This line number is already registered.")
    if reason.startswith("a line number starts"):
        return _("A line number starts with CAF or COP.")
    if reason.startswith("CAF is followed"):
        return _("A line number is CAF followed by 10 letters or digits, or COP followed by 8.")
    return _("Enter a line number.")
