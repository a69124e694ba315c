"""Whether a recorded sign-in may still be used, decided again at every use
(a reused browser session, the code exchange, a refresh, userinfo and
introspection) from the tenant as it is now.

Two things decide: the tenant's standing (a trial that ended and a cancelled
contract admit nobody, manual §0) and its line policy (a line-only tenant
admits only a sign-in over one of its registered lines, manual §1.4). So a
trial's end, a cancellation, a switch to line-only or a removed line takes
effect at the next use of whatever was issued before, and a plan change back
into service at the next use too.
"""

from __future__ import annotations

from ..models import User
from . import line_policy, permissions, plans
from .permissions import Item

# Manual §0 ※1: after a trial ended, its holder may still sign in to change
# the plan to basic for the grace days; to that page (and to giving the
# password again for it), and nothing else.
PLAN_CHANGE_PAGES = frozenset({"account_contract.plan", "account.reauthenticate"})


def admits(user: User, line_id: str | None) -> bool:
    """May a sign-in of ``user`` recorded over ``line_id`` (None: the internet) be used now?"""
    return plans.in_service(user.tenant) and line_policy.allows(user.tenant, line_id)


def may_sign_in(user: User) -> bool:
    """Whether ``user`` may sign in at all now: while the tenant is in service;
    after a trial ended, its holder for the plan change only."""
    return plans.in_service(user.tenant) or changes_plan_only(user)


def changes_plan_only(user: User) -> bool:
    """A trial that ended, and its holder within the grace days."""
    return not plans.in_service(user.tenant) and permissions.may(user, Item.PLAN)


def admits_session(user: User, endpoint: str | None) -> bool:
    """Whether a browser session of ``user`` counts on the page ``endpoint``.
    (The line policy is asked by each page, since it has exceptions of its own.)"""
    if plans.in_service(user.tenant):
        return True
    return endpoint in PLAN_CHANGE_PAGES and changes_plan_only(user)
