"""Manual §3 and §2.1 (1) in a real browser: the basic plan's holder changes their
own password (パスワード変更) and sets their login method to email and password
with a new password (ログイン方法の設定), each from the account menu, and signs
in with the new password."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from ..conftest import Live
from ..rp import DEMO_HOLDER, DEMO_PASSWORD
from .helpers import TEXT as COMMON
from .helpers import expect_menu, log_out, sign_in, submit

NEW_PASSWORD = "Kawa-Mori-5170-Sora"
TEXT = {
    "ja": {
        "password": "パスワード変更",
        "rule": "パスワードは英大文字、英小文字、数字、記号から3種類以上を含め8文字以上で設定してください",
        "password_done": "パスワードの変更が完了しました。",
        "to_menu": "認証・契約者情報メニューへ",
        "method": "ログイン方法の設定",
        "password_method": "メールアドレス・パスワード",
        "password_page": "メールアドレス・パスワード認証の設定",
        "new_password": "新しくログインに使用するパスワードを入力してください。",
        "register": "登録",
        "method_done": "ログイン方法を変更しました。変更したログイン方法でログインを実施してください。",
        "to_login": "ログイン画面へ",
    },
    "en": {
        "password": "Change password",
        "rule": "Use at least 8 characters, with at least three of",
        "password_done": "Your password has been changed.",
        "to_menu": "To the account menu",
        "method": "Login method setting",
        "password_method": "Email address and password",
        "password_page": "Email address and password login setting",
        "new_password": "Enter the new password to log in with.",
        "register": "Register",
        "method_done": "The login method was changed. Log in with the new login method.",
        "to_login": "Go to the login page",
    },
}


def _signs_in_only_with_the_new_password(page: Page, live: Live, locale: str) -> None:
    sign_in(page, live, DEMO_HOLDER, DEMO_PASSWORD)
    expect(page.locator("main")).to_contain_text(COMMON[locale]["wrong_password"])
    sign_in(page, live, DEMO_HOLDER, NEW_PASSWORD)
    expect_menu(page, locale)


def test_the_holder_changes_their_password_from_the_menu(live, page: Page, locale: str):
    text = TEXT[locale]
    sign_in(page, live, DEMO_HOLDER)
    expect_menu(page, locale)
    page.click(f"#menu-password:has-text('{text['password']}')")
    expect(page).to_have_url(live.url + "/account/password")
    expect(page.locator("h1")).to_have_text(text["password"])
    expect(page.locator("#password-rule")).to_contain_text(text["rule"])
    page.fill("input[name=current_password]", DEMO_PASSWORD)
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=password_confirm]", NEW_PASSWORD)
    expect(page.locator("#password-submit")).to_have_text(text["password"])
    submit(page, "current_password")
    expect(page.locator("#password-changed")).to_have_text(text["password_done"])
    page.get_by_role("link", name=text["to_menu"]).click()
    expect_menu(page, locale)  # still signed in here

    log_out(page, live)
    _signs_in_only_with_the_new_password(page, live, locale)


def test_the_holder_sets_email_and_password_as_login_method_from_the_menu(live, page: Page, locale: str):
    text = TEXT[locale]
    sign_in(page, live, DEMO_HOLDER)
    expect_menu(page, locale)
    page.click(f"#menu-login_method:has-text('{text['method']}')")
    expect(page).to_have_url(live.url + "/account/login-method")
    expect(page.locator("h1")).to_have_text(text["method"])
    expect(page.locator("#method-account")).to_have_text(DEMO_HOLDER)
    expect(page.locator("#current-method")).to_have_text(text["password_method"])
    expect(page.locator("#choose-password")).to_have_text(text["password_method"])
    page.click("#choose-password")
    expect(page).to_have_url(live.url + "/account/login-method/password")
    expect(page.locator("h1")).to_have_text(text["password_page"])
    expect(page.locator("main")).to_contain_text(text["new_password"])
    expect(page.locator("#method-email")).to_have_text(DEMO_HOLDER)
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=password_confirm]", NEW_PASSWORD)
    expect(page.locator("#method-register")).to_have_text(text["register"])
    submit(page, "password_confirm")
    expect(page.locator("#method-changed")).to_have_text(text["method_done"])

    page.get_by_role("link", name=text["to_login"]).click()
    expect(page).to_have_url(re.compile(r"/login$"))
    page.goto(live.url + "/account")  # manual §2.1 (1): after the change, log in again
    expect(page).to_have_url(re.compile(r"/account/login$"))
    _signs_in_only_with_the_new_password(page, live, locale)
