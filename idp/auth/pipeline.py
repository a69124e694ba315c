"""What happens between a correct password and a signed-in browser.

A sign-in is a small state machine kept in the signed session cookie
("pending"): the password is proven; then, if the tenant asks for two-step
verification and this browser is not remembered, the second factor is
enrolled or checked; then the browser session starts with every method
that was proven (``amr``), and the waiting authorization request resumes.
"""

from __future__ import annotations

import secrets
from typing import Any

from flask import make_response, redirect, render_template, session, url_for
from werkzeug.wrappers import Response

from .. import audit, clock, db
from ..mfa import enrolment
from ..models import AccessRoute, IdentityKind, User
from ..oidc import authorize
from ..tenants import admission, line_policy
from . import remember, sessions

PENDING = "pending"
PENDING_TTL = 15 * 60


def mfa_required(user: User) -> bool:
    """Two-step verification applies to email-and-password logins of a tenant
    that has it on; a line-only tenant has it off (manual §5.1)."""
    tenant = user.tenant
    if not tenant.mfa_enabled or tenant.access_route == AccessRoute.LINE_ONLY:
        return False
    return any(i.kind == IdentityKind.PASSWORD for i in user.identities)


def after_password(user: User, ix: str | None, line_id: str | None = None, holder_recovery: bool = False) -> Response:
    """The next step once the password is right.

    Over a registered line the second step is not asked (manual §1.4): the
    line replaces it. But while the tenant also admits the internet with
    two-step verification on, a user without a second factor enrols one now,
    over the line, so that someone who learns the password cannot enrol their
    own phone from the internet later. A holder signing in from the internet
    to undo a line-only lock-out always gives the second factor, and only one
    that may undo line-only (see ``_holder_recovery``).
    """
    if holder_recovery:
        return _holder_recovery(user)
    if line_id:
        if mfa_required(user) and enrolment.confirmed(user) is None:
            return _second_step(user, ix, line_id, why="line")
        return finish(user, ["pwd", "line"], ix, line_id)
    if not mfa_required(user) or remember.recognises(user):
        return finish(user, ["pwd"], ix)
    return _second_step(user, ix, None)


def _holder_recovery(user: User) -> Response:
    """Manual §4.2: the holder of a line-only tenant signs in from the internet to
    switch the route back. Never through enrolment: whoever knows the password,
    or reset it through the mailbox, could enrol a factor of their own here. So
    the holder proves a factor that ``line_policy.factor_may_undo_line_only``
    accepts, or is told to use a registered line or ask the operator."""
    if not line_policy.factor_may_undo_line_only(user.tenant, enrolment.confirmed(user)):
        abandon()
        audit.record("login.refused", user=user, method="pwd", reason="no_qualifying_factor")
        return make_response(render_template("auth/line_recovery_refused.html"), 403)
    audit.record("login.holder_recovery", user=user)
    return _second_step(user, None, None, why="recovery")


def _second_step(user: User, ix: str | None, line_id: str | None, why: str = "browser") -> Response:
    """``why`` tells the enrolment page what to say: a new browser, a first
    sign-in over a line, or a holder's recovery sign-in. ``flow`` names this
    sign-in: what it is shown or sent while enrolling confirms only within it."""
    session[PENDING] = {
        "uid": user.id,
        "flow": _new_flow(),
        "stamp": user.security_stamp,
        "ix": ix,
        "line": line_id,
        "why": why,
        "at": clock.timestamp(),
    }
    return redirect(url_for("mfa.next_step"))


def pending() -> tuple[User, dict[str, Any]] | None:
    """The user half-way through signing in, if the state is fresh and still valid."""
    state = session.get(PENDING)
    if not state or clock.timestamp() - state.get("at", 0) > PENDING_TTL:
        return None
    user = db.session().get(User, state["uid"])
    if user is None or not user.active or user.security_stamp != state["stamp"]:
        return None
    return user, state


def _new_flow() -> str:
    return secrets.token_urlsafe(18)


def flow_of(state: dict[str, Any]) -> str:
    """The pending sign-in's flow id (a state from before flow ids gets one now)."""
    if not state.get("flow"):
        state["flow"] = _new_flow()
        update_pending(flow=state["flow"])
    return state["flow"]


def abandon() -> None:
    session.pop(PENDING, None)


def update_pending(**changes: Any) -> None:
    session[PENDING] = {**session[PENDING], **changes}


def finish(user: User, amr: list[str], ix: str | None, line_id: str | None = None) -> Response:
    abandon()
    sessions.start(user, amr, line_id)
    if admission.changes_plan_only(user):
        # Manual §0 ※1: after the trial, its holder signs in for the plan change only.
        return redirect(url_for("account_contract.plan"))
    return authorize.resume(ix) or redirect(url_for("account.index"))


def complete(user: User, state: dict[str, Any], methods: list[str]) -> Response:
    """Finish a sign-in that went through the second step; a line, if any, adds to ``amr``."""
    line_id = state.get("line")
    amr = ["pwd", "line", *methods[1:]] if line_id else methods
    return finish(user, amr, state.get("ix"), line_id)
