"""Manual §1.5: the holder invites a user from the admin console; the user opens the
mail's one link, registers a password (利用者ログイン登録, 確認, 申込完了) and signs in."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from ..invite_steps import SUBJECT
from ..mfa_steps import mail_link
from ..rp import DEMO_HOLDER
from .helpers import expect_menu, sign_in, submit

INVITEE = "shinki@demo.example"
PASSWORD = "Welcome-pass-2027"
TEXT = {
    "ja": {
        "invite": "ユーザを招待",
        "detail": "ユーザ詳細",
        "register": "利用者ログイン登録",
        "confirm": "申込内容の確認",
        "done": "申込完了",
        "invited": "招待中（利用者登録前）",
        "active": "有効",
    },
    "en": {
        "invite": "Invite a user",
        "detail": "User details",
        "register": "User login registration",
        "confirm": "Confirm your registration",
        "done": "Registration complete",
        "invited": "Invited (not registered yet)",
        "active": "Active",
    },
}


def test_holder_invites_and_the_user_registers_and_signs_in(
    live, mail, page: Page, new_page: Callable[[], Page], locale: str
):
    text = TEXT[locale]
    sign_in(page, live, DEMO_HOLDER)
    expect_menu(page, locale)
    page.goto(live.url + "/admin")
    page.click("#admin-invite")
    expect(page.locator("h1")).to_have_text(text["invite"])
    page.fill("input[name=email]", INVITEE)
    page.fill("input[name=name]", "新規 次郎")
    page.check("#role-user")
    submit(page, "email")
    expect(page.locator("h1")).to_have_text(text["detail"])
    expect(page.locator("#user-status")).to_have_text(text["invited"])

    assert mail.inbox.wait_for(INVITEE).subject == SUBJECT
    invitee = new_page()
    invitee.goto(mail_link(live, mail, INVITEE))
    assert invitee.url == live.url + "/register"  # the ticket left the address bar
    expect(invitee.locator("h1")).to_have_text(text["register"])
    expect(invitee.locator("#register-email")).to_have_text(INVITEE)
    expect(invitee.locator("[data-provider=password]")).to_be_visible()
    invitee.fill("input[name=password]", PASSWORD)
    invitee.fill("input[name=password_confirm]", PASSWORD)
    submit(invitee, "password_confirm")
    expect(invitee.locator("h1")).to_have_text(text["confirm"])
    invitee.click("#register-confirm")
    expect(invitee.locator("h1")).to_have_text(text["done"])
    invitee.click("#register-ok")

    assert invitee.url.startswith(live.url + "/login")
    invitee.fill("input[name=email]", INVITEE)
    invitee.fill("input[name=password]", PASSWORD)
    submit(invitee, "password")
    expect_menu(invitee, locale)

    page.goto(live.url + "/admin/users")
    expect(page.locator(f'tr[data-email="{INVITEE}"] td.status')).to_have_text(text["active"])
