"""Admin console: users (ユーザー一覧, ユーザ詳細, inviting; manual §1.5, §2.2).

Holders and admins of a tenant see and change only their own tenant's people:
another tenant's user id is 404 on every page and every form. Each change is a
CSRF-protected POST; the destructive ones ask for confirmation first. A change
answers with the user's page itself, not a redirect: a browser may close a
redirect's connection before reading its body, and a server may then skip
the close hook that sends the mail after the response (Werkzeug's does)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from flask import abort, render_template, request
from flask_babel import lazy_gettext as _l

from .. import clock
from ..account import methods, registration
from ..forms import PAGE_EXPIRED
from ..models import Role, User, UserStatus
from . import people
from .forms import InviteForm, UserActionForm
from .views import administrator, bp

INVITE_REFUSALS = {
    registration.Refusal.EMAIL: _l("Enter a valid email address."),
    registration.Refusal.NAME: _l("The name is too long."),
    registration.Refusal.ROLE: _l("Choose administrator or user."),
    registration.Refusal.TAKEN: _l("This email address is already in use and cannot be invited."),
    registration.Refusal.NOT_INVITED: _l("This user has already registered."),
}
REFUSALS = {
    people.Refusal.HOLDER: _l("The contract holder's account cannot be changed here."),
    people.Refusal.SELF: _l("You cannot change your own account here."),
    people.Refusal.ROLE: _l("Choose administrator or user."),
    people.Refusal.STATE: _l("This cannot be done in the user's present state."),
}
ROLES = {Role.HOLDER: _l("Contract holder"), Role.ADMIN: _l("Administrator"), Role.USER: _l("User")}
STATUSES = {
    UserStatus.ACTIVE: _l("Active"),
    UserStatus.INVITED: _l("Invited (not registered yet)"),
    UserStatus.LOCKED: _l("Locked"),
    UserStatus.DISABLED: _l("Deactivated"),
}


@dataclass(frozen=True)
class Action:
    run: Callable[[User, User, UserActionForm], None]
    # The question of the confirmation page; None: done at once.
    question: object | None
    done: object


ACTIONS = {
    "role": Action(
        lambda actor, target, form: people.change_role(actor, target, form.role.data or ""),
        _l("Change the role of this user?"),
        _l("The role has been changed."),
    ),
    "deactivate": Action(
        lambda actor, target, form: people.deactivate(actor, target),
        _l("Deactivate this user? The user is signed out everywhere and cannot log in until reactivated."),
        _l("The user has been deactivated."),
    ),
    "reactivate": Action(
        lambda actor, target, form: people.reactivate(actor, target), None, _l("The user has been reactivated.")
    ),
    "reset-two-step": Action(
        lambda actor, target, form: people.reset_two_step(actor, target),
        _l("Reset the two-step verification registration of this user? The user registers it again at the next login."),
        _l("The two-step verification registration has been reset. The user has been told by mail."),
    ),
    "resend": Action(
        lambda actor, target, form: people.resend_invitation(actor, target),
        None,
        _l("The invitation has been sent again. The link sent before no longer works."),
    ),
}


def _when(moment: datetime | None) -> str:
    return clock.japan(moment)


def _labels(actor: User) -> dict[str, object]:
    """What the templates show for roles, statuses, login methods (a method no
    longer on offer shows its provider's name) and times (JST)."""
    offered = [methods.PASSWORD, *methods.offered(actor.tenant, Role.ADMIN), *methods.offered(actor.tenant, Role.USER)]
    return {
        "roles": ROLES,
        "statuses": STATUSES,
        "method_labels": {m.provider: m.label for m in offered},
        "when": _when,
    }


@bp.route("/users")
@administrator
def users(actor: User) -> str:
    query = request.args.get("q", "")[:254]
    page = request.args.get("page", 1, type=int) or 1
    listing = people.listing(actor.tenant, query, page)
    return render_template("admin/users.html", listing=listing, query=query, **_labels(actor))


@bp.route("/users/new", methods=["GET", "POST"])
@administrator
def invite(actor: User) -> str | tuple[str, int]:
    form, error, status = InviteForm(), None, 200
    if form.validate_on_submit():
        try:
            user = registration.invite(
                actor.tenant, form.email.data or "", form.name.data or "", form.role.data or "", actor, people.VIA
            )
            return _detail(actor, user, done="invited")
        except registration.InviteRefused as refused:
            error, status = str(INVITE_REFUSALS[refused.reason]), 400
    elif form.is_submitted():
        error, status = str(PAGE_EXPIRED), 400
    return render_template("admin/users_new.html", form=form, error=error, roles=ROLES), status


def _target(actor: User, user_id: str) -> User:
    target = people.find(actor.tenant, user_id)
    if target is None:
        abort(404)
    return target


def _detail(actor: User, target: User, error: str | None = None, done: str | None = None) -> str:
    return render_template(
        "admin/users_detail.html",
        person=people.person(target),
        actor=actor,
        target=target,
        manageable=people.manageable(actor, target),
        form=UserActionForm(formdata=None),
        error=error,
        done=ACTIONS[done].done if done in ACTIONS else None,
        invited=done == "invited",
        **_labels(actor),
    )


@bp.route("/users/<user_id>")
@administrator
def user_detail(actor: User, user_id: str) -> str:
    return _detail(actor, _target(actor, user_id))


@bp.route("/users/<user_id>/<action>", methods=["POST"])
@administrator
def user_action(actor: User, user_id: str, action: str) -> str | tuple[str, int]:
    target = _target(actor, user_id)
    spec = ACTIONS.get(action)
    if spec is None:
        abort(404)
    form = UserActionForm()
    if not form.validate_on_submit():
        return _detail(actor, target, error=str(PAGE_EXPIRED)), 400
    if spec.question is not None and form.stage.data != "confirm":
        labels = _labels(actor)
        return render_template(
            "admin/users_confirm.html", target=target, action=action, question=spec.question, form=form, **labels
        )
    try:
        spec.run(actor, target, form)
    except people.Refused as refused:
        return _detail(actor, target, error=str(REFUSALS[refused.reason])), 400
    return _detail(actor, target, done=action)
