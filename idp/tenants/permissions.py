"""Who may do what in the account menu (manual §0): one table, asked by the
menu, by every page and by the command line alike.

Each item is a small named predicate of the person (role, plan, the tenant's
standing, how they sign in). A page answers a localized 403 when its item's
predicate says no; the menu shows only the items whose predicate says yes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from ..models import IdentityKind, Plan, Role, User
from . import plans


class Item(StrEnum):
    LOGIN_METHOD = "login_method"  # ログイン方法の設定
    EMAIL = "email"  # メールアドレス変更
    PASSWORD = "password"  # パスワード変更
    ACCESS_ROUTE = "access_route"  # アクセス経路設定
    TWO_STEP = "two_step"  # 2段階認証設定
    ACTIVE_DIRECTORY = "active_directory"  # Active Directory設定
    CONTRACT = "contract"  # 契約情報変更
    PLAN = "plan"  # プラン変更
    CANCEL = "cancel"  # 解約


class Group(StrEnum):
    """The menu's three headings."""

    CREDENTIALS = "credentials"  # 〈認証情報の変更〉
    SETTINGS = "settings"  # 〈認証情報の設定〉
    CONTRACT = "contract"  # 〈契約情報の変更〉


def _holder(user: User) -> bool:
    return user.role == Role.HOLDER


def _basic(user: User) -> bool:
    return user.tenant.plan == Plan.BASIC


def _in_service(user: User) -> bool:
    return plans.standing(user.tenant) == plans.Standing.ACTIVE


def _signs_in_with_password(user: User) -> bool:
    return any(i.kind == IdentityKind.PASSWORD for i in user.identities)


def basic_holder(user: User) -> bool:
    """Basic plan, the holder only."""
    return _holder(user) and _basic(user) and _in_service(user)


def any_holder(user: User) -> bool:
    """The holder, on the basic plan or a running trial."""
    return _holder(user) and _in_service(user)


def password_user(user: User) -> bool:
    """Anyone whose login method is email and password."""
    return _in_service(user) and _signs_in_with_password(user)


def plan_changer(user: User) -> bool:
    """The holder: on the basic plan; on a trial, also up to the grace days after it ended."""
    if not _holder(user):
        return False
    standing = plans.standing(user.tenant)
    if user.tenant.plan == Plan.TRIAL:
        return standing in (plans.Standing.ACTIVE, plans.Standing.TRIAL_ENDED)
    return standing == plans.Standing.ACTIVE


@dataclass(frozen=True)
class Rule:
    item: Item
    group: Group
    may: Callable[[User], bool]


# Manual §0, the table; a trial ends by itself after 30 days, so it cannot be cancelled.
RULES: tuple[Rule, ...] = (
    Rule(Item.LOGIN_METHOD, Group.CREDENTIALS, basic_holder),
    Rule(Item.EMAIL, Group.CREDENTIALS, basic_holder),
    Rule(Item.PASSWORD, Group.CREDENTIALS, password_user),
    Rule(Item.ACCESS_ROUTE, Group.SETTINGS, any_holder),
    Rule(Item.TWO_STEP, Group.SETTINGS, any_holder),
    Rule(Item.ACTIVE_DIRECTORY, Group.SETTINGS, any_holder),
    Rule(Item.CONTRACT, Group.CONTRACT, basic_holder),
    Rule(Item.PLAN, Group.CONTRACT, plan_changer),
    Rule(Item.CANCEL, Group.CONTRACT, basic_holder),
)
_BY_ITEM = {rule.item: rule for rule in RULES}


def may(user: User, item: Item) -> bool:
    return _BY_ITEM[item].may(user)


def allowed(user: User) -> list[Rule]:
    """The items ``user`` may use, in the menu's order."""
    return [rule for rule in RULES if rule.may(user)]
