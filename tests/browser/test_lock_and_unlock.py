"""Manual §6.1: ten wrong passwords lock the account; the mail's one link unlocks it,
once, from a page whose address no longer holds the ticket."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ..mfa_steps import mail_link
from ..rp import DEMO_USER
from .helpers import TEXT, expect_menu, sign_in, submit


def _retry(page: Page, password: str) -> None:
    """Try another password on the login page that answered the last try."""
    page.fill("input[name=password]", password)
    submit(page, "password")


def test_ten_failures_lock_and_the_mailed_link_unlocks(live, mail, page: Page, locale: str):
    sign_in(page, live, password="Wrong-pass-1")
    for attempt in range(2, 11):
        expect(page.locator("#login-error")).to_have_text(TEXT[locale]["wrong_password"])
        _retry(page, f"Wrong-pass-{attempt}")
    expect(page.locator("#login-error")).to_have_text(TEXT[locale]["locked"])
    sign_in(page, live)  # the right password does not get past the lock
    expect(page.locator("#login-error")).to_have_text(TEXT[locale]["locked"])

    assert mail.inbox.wait_for(DEMO_USER).subject == "【ワークストレージ】アカウントロック"
    link = mail_link(live, mail)  # exactly one link, on the issuer
    page.goto(link)
    assert page.url == live.url + "/unlock"
    page.click("#unlock")
    expect(page.locator("#unlocked")).to_have_text(TEXT[locale]["unlocked"])

    sign_in(page, live)
    expect_menu(page, locale)

    page.goto(link)
    expect(page.locator("#link-invalid")).to_have_text(TEXT[locale]["link_invalid"])
    assert mail.inbox.count(DEMO_USER) == 1
