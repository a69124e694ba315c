"""Manual §6.2: forgotten password. The mailed link leads to the reset page (its ticket
gone from the address bar), which names each broken rule; the reset unlocks the
account and clears two-step verification, so the next sign-in enrols again."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ..journeys import set_tenant_mfa
from ..mfa_steps import enrol_totp, is_enrolled, lock_account, mail_link, user_status
from ..rp import DEMO_USER
from .helpers import TEXT, expect_second_step, sign_in, submit

NEW_PASSWORD = "Fresh-pass-2027"


def _reset_with(page: Page, password: str, confirm: str) -> None:
    page.fill("input[name=password]", password)
    page.fill("input[name=password_confirm]", confirm)
    submit(page, "password_confirm")


def test_forgot_password_resets_unlocks_and_clears_two_step(live, mail, page: Page, locale: str):
    set_tenant_mfa(live, True)
    enrol_totp(live)
    lock_account(live)

    page.goto(live.url + "/login")
    page.click("#forgot-link")
    page.fill("input[name=email]", DEMO_USER)
    submit(page, "email")
    expect(page.locator("#forgot-sent")).to_be_visible()

    page.goto(mail_link(live, mail))
    assert page.url == live.url + "/password/reset"
    _reset_with(page, "abc", "abd")
    expect(page.locator(".error")).to_have_text(
        [TEXT[locale]["too_short"], TEXT[locale]["too_few_kinds"], TEXT[locale]["mismatch"]]
    )
    _reset_with(page, NEW_PASSWORD, NEW_PASSWORD)
    expect(page.locator("#reset-done")).to_have_text(TEXT[locale]["reset_done"])
    assert user_status(live) == "active" and not is_enrolled(live)

    page.click("main a.button")
    sign_in(page, live, password=NEW_PASSWORD)
    expect_second_step(page, locale, "/mfa/setup/sms")
    expect(page.locator("input[name=phone]")).to_be_visible()
