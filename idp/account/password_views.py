"""Password change from the account menu (manual §3), for people whose login
method is email and password.

The current password is a sign-in like any other (``login.sign_in``): a wrong
one counts towards the account lock and the source throttle, and the lock ends
the session. A new password ends every other session, link and grant; this
browser gets a new session carrying its sign-in (methods, time, line), so the
person stays signed in here.
"""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_babel import gettext as _

from ..auth import login, sessions
from ..auth.login import Outcome
from ..auth.password_policy import broken_rules
from ..auth.proof import Proof
from ..auth.views import line_refused, outcome_message
from ..forms import PAGE_EXPIRED
from ..tenants.permissions import Item
from .credentials import change_password
from .forms import RULE_TEXT, ChangePasswordForm
from .views import requires

bp = Blueprint("account_password", __name__, url_prefix="/account")


@bp.route("/password", methods=["GET", "POST"])
@requires(Item.PASSWORD)
def change(proof: Proof) -> str | tuple[str, int]:
    form = ChangePasswordForm()
    if not form.is_submitted():
        return _page(form)
    if not form.validate():
        if form.csrf_token.errors:
            return _page(form, str(PAGE_EXPIRED)), 400
        return _page(form, _("The current password is incorrect.")), 401  # empty or too long: not tried
    result = login.sign_in(proof.user.email, form.current_password.data or "")
    if result.outcome != Outcome.OK or result.user is None or result.user.id != proof.user.id:
        return _refused(form, result.outcome)
    password = form.password.data or ""
    broken = broken_rules(password, proof.user.email, form.password_confirm.data or "")
    if broken:
        return _page(form, *[str(RULE_TEXT[rule]) for rule in broken])
    change_password(proof.user, password)
    # This browser stays signed in: the same sign-in in a session under the new
    # security stamp, which has just been given the password again.
    sessions.reauthenticated(sessions.start(proof.user, proof.amr, proof.line_id, proof.auth_time))
    return render_template("account/password_done.html")


def _refused(form: ChangePasswordForm, outcome: Outcome) -> str | tuple[str, int]:
    if outcome == Outcome.LINE_REQUIRED:
        return line_refused()
    if outcome == Outcome.THROTTLED:
        return _page(form, outcome_message(outcome)), 429
    if outcome == Outcome.LOCKED:
        # The lock ends the session; the page says why and offers no form.
        sessions.end_current()
        return render_template("account/password.html", form=form, errors=[outcome_message(outcome)], locked=True), 401
    return _page(form, _("The current password is incorrect.")), 401


def _page(form: ChangePasswordForm, *errors: str) -> str:
    return render_template("account/password.html", form=form, errors=list(errors), locked=False)
