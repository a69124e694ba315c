"""Manual §0, the whole table: every item for every role on every plan, and
what a trial's end and a cancellation change."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from flask import Flask

from idp import clock, create_app
from idp.models import IdentityKind, LoginIdentity, Plan, Role, Tenant, User
from idp.tenants import permissions
from idp.tenants.permissions import Item

from ..conftest import make_settings

Y, N = True, False
# item: (basic holder, basic others, trial holder, trial others)
TABLE = {
    Item.LOGIN_METHOD: (Y, N, N, N),
    Item.EMAIL: (Y, N, N, N),
    Item.PASSWORD: (Y, Y, Y, Y),
    Item.ACCESS_ROUTE: (Y, N, Y, N),
    Item.TWO_STEP: (Y, N, Y, N),
    Item.ACTIVE_DIRECTORY: (Y, N, Y, N),
    Item.CONTRACT: (Y, N, N, N),
    Item.PLAN: (Y, N, Y, N),
    Item.CANCEL: (Y, N, N, N),
}
CASES = [(Plan.BASIC, Role.HOLDER), (Plan.BASIC, Role.ADMIN), (Plan.TRIAL, Role.HOLDER), (Plan.TRIAL, Role.ADMIN)]
COLUMN = {(Plan.BASIC, Role.HOLDER): 0, (Plan.BASIC, Role.ADMIN): 1, (Plan.BASIC, Role.USER): 1}
COLUMN |= {(Plan.TRIAL, Role.HOLDER): 2, (Plan.TRIAL, Role.ADMIN): 3, (Plan.TRIAL, Role.USER): 3}


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    folder = tmp_path_factory.mktemp("perm")
    app = create_app(make_settings(f"sqlite:///{folder}/unused.sqlite3", folder, "http://127.0.0.1:1"))
    with app.app_context():
        yield app
    clock.reset()


def person(plan: str, role: str, password: bool = True, trial_days_left: int = 10) -> User:
    tenant = Tenant(name="t", plan=plan, status="active")
    if plan == Plan.TRIAL:
        tenant.trial_ends_at = clock.now() + timedelta(days=trial_days_left)
    user = User(tenant=tenant, role=role, email="p@example.com", email_key="p@example.com")
    if password:
        user.identities.append(LoginIdentity(kind=IdentityKind.PASSWORD, subject="x", password_hash="h"))
    else:
        user.identities.append(LoginIdentity(kind=IdentityKind.UPSTREAM, provider="google", subject="g"))
    return user


@pytest.mark.parametrize("item", list(Item))
@pytest.mark.parametrize(("plan", "role"), [*CASES, (Plan.BASIC, Role.USER), (Plan.TRIAL, Role.USER)])
def test_the_table(app, item, plan, role):
    assert permissions.may(person(plan, role), item) is TABLE[item][COLUMN[(plan, role)]]


def test_the_menu_lists_the_allowed_items_in_the_manuals_order(app):
    assert [rule.item for rule in permissions.allowed(person(Plan.BASIC, Role.HOLDER))] == list(Item)
    assert [rule.item for rule in permissions.allowed(person(Plan.TRIAL, Role.USER))] == [Item.PASSWORD]


def test_password_change_only_for_password_users(app):
    assert not permissions.may(person(Plan.BASIC, Role.HOLDER, password=False), Item.PASSWORD)
    assert not permissions.may(person(Plan.BASIC, Role.USER, password=False), Item.PASSWORD)


def test_a_trial_holder_may_change_the_plan_within_the_grace_days(app):
    grace = app.extensions["idp.settings"].plan_change_grace_days
    ended = person(Plan.TRIAL, Role.HOLDER, trial_days_left=-1)
    assert [rule.item for rule in permissions.allowed(ended)] == [Item.PLAN]
    gone = person(Plan.TRIAL, Role.HOLDER, trial_days_left=-(grace + 1))
    assert permissions.allowed(gone) == []


def test_a_cancelled_tenant_may_do_nothing(app):
    for plan, role in CASES:
        user = person(plan, role)
        user.tenant.status = "cancelled"
        assert permissions.allowed(user) == []
