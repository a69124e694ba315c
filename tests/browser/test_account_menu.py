"""Manual §0 and §3 in a real browser: the holder and a user open the account
menu and see exactly their items; the user changes the password from it and
stays signed in, while another browser of theirs is signed out."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from ..conftest import Live
from ..rp import DEMO_HOLDER, DEMO_PASSWORD
from .helpers import expect_menu, sign_in, submit

NEW_PASSWORD = "Tsuki-Umi-8841-Hana"
PAGES = {
    "login_method": "/account/login-method",
    "email": "/account/email",
    "password": "/account/password",
    "access_route": "/account/access-route",
    "two_step": "/account/mfa",
    "active_directory": "/account/ad",
    "contract": "/account/contract",
    "plan": "/account/plan",
    "cancel": "/account/cancel",
}
WORDS = {
    "ja": {
        "password": "パスワード変更",
        "access_route": "アクセス経路設定",
        "two_step": "2段階認証設定",
        "only_permitted": "あなたに許可されたメニューのみ表示しております。",
        "done": "パスワードの変更が完了しました。",
        "to_menu": "認証・契約者情報メニューへ",
        "menu_login": "認証・契約情報変更ログイン",
    },
    "en": {
        "password": "Change password",
        "access_route": "Access route setting",
        "two_step": "Two-step verification setting",
        "only_permitted": "Only the menu items permitted to you are shown.",
        "done": "Your password has been changed.",
        "to_menu": "To the account menu",
        "menu_login": "Sign in to change sign-in and contract details",
    },
}


def _served(live: Live, items: list[str]) -> list[str]:
    rules = {rule.rule for rule in live.app.url_map.iter_rules()}
    return [item for item in items if PAGES[item] in rules]


def _expect_items(page: Page, live: Live, items: list[str]) -> None:
    links = page.locator("section[id^=menu-group-] a")
    expected = _served(live, items)
    expect(links).to_have_count(len(expected))
    assert [links.nth(i).get_attribute("id") for i in range(len(expected))] == [f"menu-{i}" for i in expected]


def test_the_menu_and_a_password_change(live, page: Page, new_page: Callable[[], Page], locale: str):
    words = WORDS[locale]
    sign_in(page, live, DEMO_HOLDER)
    expect_menu(page, locale)
    expect(page.locator("#menu-note")).to_contain_text(words["only_permitted"])
    _expect_items(page, live, list(PAGES))
    for item in ("password", "access_route", "two_step"):
        expect(page.locator(f"#menu-{item}")).to_have_text(words[item])

    user, other = new_page(), new_page()
    for browser in (user, other):
        sign_in(browser, live)
        expect_menu(browser, locale)
    _expect_items(user, live, ["password"])

    user.click("#menu-password")
    expect(user.locator("h1")).to_have_text(words["password"])
    user.fill("input[name=current_password]", DEMO_PASSWORD)
    user.fill("input[name=password]", NEW_PASSWORD)
    user.fill("input[name=password_confirm]", NEW_PASSWORD)
    submit(user, "current_password")
    expect(user.locator("#password-changed")).to_have_text(words["done"])
    user.get_by_role("link", name=words["to_menu"]).click()
    expect_menu(user, locale)  # still signed in here

    other.goto(live.url + "/account")
    expect(other).to_have_url(re.compile(r"/account/login$"))
    expect(other.locator("h1")).to_have_text(words["menu_login"])
