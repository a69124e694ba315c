"""Manual §2.1 (2): the holder changes their email address from the account menu and
confirms from the mail, in Japanese and in English."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ..account_steps import NEW_PASSWORD, link_titled
from ..rp import DEMO_HOLDER
from .helpers import expect_menu, sign_in, submit

NEW = "holder@new.example"
TEXT = {
    "ja": {
        "menu_link": "メールアドレス変更",
        "request": "本サービスに新しく登録するメールアドレスを入力してください。",
        "send": "メール送信",
        "confirm": "メールアドレス変更確認",
        "rule": "パスワードは英大文字、英小文字、数字、記号から3種類以上を含め8文字以上で設定してください",
        "register": "登録",
        "done": "新しいメールアドレスでログインしてください。",
    },
    "en": {
        "menu_link": "Change email address",
        "request": "Enter the new email address to register for this service.",
        "send": "Send mail",
        "confirm": "Confirm the email address change",
        "rule": "Use at least 8 characters, with at least three of",
        "register": "Register",
        "done": "Log in with the new address.",
    },
}


def test_the_holder_changes_their_email_from_the_menu(live, mail, page: Page, locale: str):
    text = TEXT[locale]
    sign_in(page, live, DEMO_HOLDER)
    expect_menu(page, locale)
    page.click(f"a[href='/account/email']:has-text('{text['menu_link']}')")
    expect(page.locator("main")).to_contain_text(text["request"])
    page.fill("input[name=email]", NEW)
    page.fill("input[name=email_confirm]", NEW)
    expect(page.locator("#email-send")).to_have_text(text["send"])
    submit(page, "email_confirm")
    expect(page.locator("#email-sent")).to_contain_text(NEW)

    page.goto(link_titled(live, mail, NEW, "【コワークストレージ】メールアドレス変更登録"))
    expect(page).to_have_url(live.url + "/account/email/confirm")  # the ticket left the address bar
    expect(page.locator("h1")).to_have_text(text["confirm"])
    expect(page.locator("#new-email")).to_have_text(NEW)
    expect(page.locator("main")).to_contain_text(text["rule"])
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=password_confirm]", NEW_PASSWORD)
    expect(page.locator("#email-confirm")).to_have_text(text["register"])
    submit(page, "password_confirm")
    expect(page.locator("#email-changed")).to_contain_text(text["done"])

    page.click("#to-login")
    sign_in(page, live, NEW, NEW_PASSWORD)
    expect_menu(page, locale)
