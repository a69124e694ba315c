"""Account menu pages. Each shows only what the signed-in person may do."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from werkzeug.wrappers import Response

from ..auth import sessions
from ..auth.forms import LogoutForm

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("")
def index() -> Response | str:
    proof = sessions.current()
    if proof is None:
        return redirect(url_for("auth.login"))
    return render_template("account/index.html", user=proof.user, logout_form=LogoutForm())
