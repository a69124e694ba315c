"""Manual §2.2 in a real browser: an admin finds a user in the admin console and,
on the user's メールアドレス変更 screen, sends the mail for a login-method change
(the same address) or an email-address change (a new one); the user finishes
from the mail in a browser of their own and signs in."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from ..account_steps import NEW_PASSWORD, link_titled, mail_titled
from ..conftest import Live
from ..mfa_steps import DEMO_ADMIN, add_admin
from ..rp import DEMO_PASSWORD, DEMO_USER
from .helpers import TEXT as COMMON
from .helpers import expect_menu, sign_in, submit

METHOD_SUBJECT = "【コワークストレージ】ログイン方法の設定変更"
EMAIL_SUBJECT = "【コワークストレージ】メールアドレス変更登録"
CHANGED_SUBJECT = "【コワークストレージ】メールアドレス変更のお知らせ"
NEW = "user@new.example"
TEXT = {
    "ja": {
        "users": "ユーザー一覧",
        "detail": "ユーザ詳細",
        "mail_screen": "メールアドレス変更",
        "question": "指定されたメールアドレスに確認メールを送信します。よろしいですか？",
        "method_sent": "ログイン方法の変更用のURLを {} 宛にメールしました。",
        "email_sent": "メールアドレス変更用のURLを {} 宛にメールしました。"
        "利用者がURLへアクセスすると変更が完了します。",
        "method_page": "ログイン方法の設定",
        "password_method": "メールアドレス・パスワード",
        "password_page": "メールアドレス・パスワード認証の設定",
        "new_password": "新しくログインに使用するパスワードを入力してください。",
        "register": "登録",
        "method_done": "ログイン方法を変更しました。変更したログイン方法でログインを実施してください。",
        "confirm": "メールアドレス変更確認",
        "email_done": "メールアドレスを {} に変更しました。新しいメールアドレスでログインしてください。",
    },
    "en": {
        "users": "User list",
        "detail": "User details",
        "mail_screen": "Change email address",
        "question": "A confirmation mail will be sent to the address given. Is that all right?",
        "method_sent": "The link to change the login method was mailed to {}.",
        "email_sent": "The link to change the email address was mailed to {}. "
        "The address changes when the user opens it.",
        "method_page": "Login method setting",
        "password_method": "Email address and password",
        "password_page": "Email address and password login setting",
        "new_password": "Enter the new password to log in with.",
        "register": "Register",
        "method_done": "The login method was changed. Log in with the new login method.",
        "confirm": "Confirm the email address change",
        "email_done": "The email address was changed to {}. Log in with the new address.",
    },
}


def _send(page: Page, live: Live, locale: str, address: str) -> None:
    """The admin signs in, finds the demo user, and on its メールアドレス変更 screen
    sends to ``address``: 送信, then OK on the confirmation page."""
    text = TEXT[locale]
    add_admin(live)
    sign_in(page, live, DEMO_ADMIN)
    expect_menu(page, locale)
    page.click("#menu-admin-users")
    expect(page.locator("h1")).to_have_text(text["users"])
    page.fill("input[name=q]", "user@demo")
    page.click("#search")
    row = page.locator(f'tr[data-email="{DEMO_USER}"]')
    expect(page.locator("#users tbody tr")).to_have_count(1)
    expect(row.locator("td.method")).to_have_text(text["password_method"])
    row.locator("a").click()
    expect(page.locator("h1")).to_have_text(text["detail"])
    expect(page.locator("#user-email")).to_have_text(DEMO_USER)

    page.click("#user-mail-change")
    expect(page.locator("h1")).to_have_text(text["mail_screen"])
    expect(page.locator("input[name=email]")).to_have_value(DEMO_USER)
    page.fill("input[name=email]", address)
    submit(page, "email")
    expect(page.locator("h1")).to_have_text(text["mail_screen"])
    expect(page.locator("#mail-address")).to_have_text(address)
    expect(page.locator("#mail-confirm-question")).to_have_text(text["question"])
    page.click("#mail-ok")


def test_the_same_address_mails_the_login_method_change(
    live, mail, page: Page, new_page: Callable[[], Page], locale: str
):
    text = TEXT[locale]
    _send(page, live, locale, DEMO_USER)
    expect(page.locator("#mail-sent")).to_have_text(text["method_sent"].format(DEMO_USER))

    user = new_page()  # the user's own browser, without a session
    user.goto(link_titled(live, mail, DEMO_USER, METHOD_SUBJECT))
    expect(user).to_have_url(live.url + "/account/login-method/mail")  # the ticket left the address bar
    expect(user.locator("h1")).to_have_text(text["method_page"])
    expect(user.locator("#method-account")).to_have_text(DEMO_USER)
    expect(user.locator("#current-method")).to_have_text(text["password_method"])
    user.click("#choose-password")
    expect(user).to_have_url(live.url + "/account/login-method/mail/password")
    expect(user.locator("h1")).to_have_text(text["password_page"])
    expect(user.locator("main")).to_contain_text(text["new_password"])
    expect(user.locator("#method-email")).to_have_text(DEMO_USER)
    user.fill("input[name=password]", NEW_PASSWORD)
    user.fill("input[name=password_confirm]", NEW_PASSWORD)
    expect(user.locator("#method-register")).to_have_text(text["register"])
    submit(user, "password_confirm")
    expect(user.locator("#method-changed")).to_have_text(text["method_done"])

    user.click("#to-login")
    expect(user).to_have_url(re.compile(r"/login$"))
    sign_in(user, live, DEMO_USER, DEMO_PASSWORD)
    expect(user.locator("main")).to_contain_text(COMMON[locale]["wrong_password"])
    sign_in(user, live, DEMO_USER, NEW_PASSWORD)
    expect_menu(user, locale)
    assert mail.inbox.count(NEW) == 0


def test_a_new_address_mails_the_email_change(live, mail, page: Page, new_page: Callable[[], Page], locale: str):
    text = TEXT[locale]
    _send(page, live, locale, NEW)
    expect(page.locator("#mail-sent")).to_have_text(text["email_sent"].format(NEW))

    user = new_page()
    user.goto(link_titled(live, mail, NEW, EMAIL_SUBJECT))
    expect(user).to_have_url(live.url + "/account/email/confirm")  # the ticket left the address bar
    expect(user.locator("h1")).to_have_text(text["confirm"])
    expect(user.locator("#new-email")).to_have_text(NEW)
    user.fill("input[name=password]", NEW_PASSWORD)
    user.fill("input[name=password_confirm]", NEW_PASSWORD)
    expect(user.locator("#email-confirm")).to_have_text(text["register"])
    submit(user, "password_confirm")
    expect(user.locator("#email-changed")).to_have_text(text["email_done"].format(NEW))
    assert mail_titled(mail, DEMO_USER, CHANGED_SUBJECT)  # the old address is told

    user.click("#to-login")
    expect(user).to_have_url(re.compile(r"/login$"))
    sign_in(user, live, DEMO_USER, NEW_PASSWORD)
    expect(user.locator("main")).to_contain_text(COMMON[locale]["wrong_password"])
    sign_in(user, live, NEW, NEW_PASSWORD)
    expect_menu(user, locale)

    page.goto(live.url + "/admin/users")
    expect(page.locator(f'tr[data-email="{NEW}"] td.email')).to_have_text(NEW)
    expect(page.locator(f'tr[data-email="{DEMO_USER}"]')).to_have_count(0)
