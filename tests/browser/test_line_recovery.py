"""Manual §4.1: the access route was set to "line authentication only" with a wrong
line number, so nobody can log in. The contract holder logs in from the
internet, gives the second factor registered before the switch, and in the
account menu switches the access route back to "line authentication +
internet"; then the tenant's users log in from the internet again. A holder
without such a factor is told the ways back instead of being offered enrolment."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from .. import mfa_steps
from ..line_steps import OTHER_LINE, line_only_with, serve, tenant_state
from ..rp import DEMO_HOLDER
from .helpers import enter_code, expect_menu, expect_second_step, sign_in

TEXT = {
    "ja": {
        "line_error": "回線認証エラー",
        "access_route": "アクセス経路設定",
        "line_and_internet": "回線認証+インターネット",
        "line_only": "回線認証のみ",
        "done": "アクセス経路を変更しました: 回線認証+インターネット",
        "refused": "インターネットからはアクセス経路設定を変更できません",
        "operator": "サービス運営者にアクセス経路設定を「回線認証+インターネット」に戻すようご依頼ください。",
    },
    "en": {
        "line_error": "Line authentication error",
        "access_route": "Access route setting",
        "line_and_internet": "Line authentication + internet",
        "line_only": "Line authentication only",
        "done": "The access route is now: Line authentication + internet",
        "refused": "The access route cannot be changed from the internet",
        "operator": "ask the service operator to switch the access route back.",
    },
}


@pytest.fixture
def live(database_url, tmp_path, key_template, mail, sms):
    yield from serve(database_url, tmp_path, key_template, mail, sms)


def test_the_holder_switches_back_to_line_and_internet(live, page: Page, new_page: Callable[[], Page], locale: str):
    text = TEXT[locale]
    mfa_steps.align_to_step()
    secret, _recovery = mfa_steps.enrol_totp(live, DEMO_HOLDER)
    line_only_with(live, OTHER_LINE)

    user = new_page()
    sign_in(user, live)
    expect(user.locator("h1")).to_have_text(text["line_error"])

    sign_in(page, live, DEMO_HOLDER)
    expect_second_step(page, locale, "/mfa/challenge")
    enter_code(page, mfa_steps.totp_code(secret))
    expect_menu(page, locale)

    page.get_by_role("link", name=text["access_route"]).click()
    expect(page.locator("#route-line-only")).to_be_checked()
    page.get_by_label(text["line_and_internet"]).check()
    page.click("#route-submit")
    expect(page.locator("#current-route")).to_have_text(text["line_only"])
    expect(page.locator("#new-route")).to_have_text(text["line_and_internet"])
    assert tenant_state(live).access_route == "line-only"  # not before the confirmation
    page.click("#route-confirm")
    expect(page.locator("#route-done")).to_have_text(text["done"])
    assert tenant_state(live).access_route == "line+internet"

    user = new_page()
    sign_in(user, live)
    expect_menu(user, locale)


def test_a_holder_without_such_a_factor_is_told_the_ways_back(live, page: Page, locale: str):
    text = TEXT[locale]
    line_only_with(live, OTHER_LINE)
    sign_in(page, live, DEMO_HOLDER)
    expect(page.locator("h1")).to_have_text(text["refused"])
    expect(page.locator("#line-recovery-ways")).to_contain_text(text["operator"])
    page.goto(live.url + "/mfa/setup")
    expect(page).to_have_url(live.url + "/login")
    assert tenant_state(live).access_route == "line-only"
