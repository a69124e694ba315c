"""Manual §5.1: the contract holder turns two-step verification on and off from the
account menu, through a confirmation page that needs its checkbox; the tenant's
users then sign in with or without the second step."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect
from sqlalchemy import select

from idp import db
from idp.models import Tenant

from ..rp import DEMO_HOLDER
from .helpers import TEXT, expect_menu, expect_second_step, sign_in


def _tenant_mfa(live) -> bool:
    with live.app.app_context():
        return db.session().scalar(select(Tenant.mfa_enabled).where(Tenant.name == "demo"))


def _set_policy(page: Page, live, locale: str, choice: str) -> None:
    """From the account menu: choose, be refused without the checkbox, confirm."""
    text = TEXT[locale]
    page.goto(live.url + "/account")
    page.get_by_role("link", name=text["policy_menu"]).click()
    page.check(f"#mfa-{choice}")
    page.click("#mfa-submit")
    expect(page.locator("main")).to_contain_text(text["policy_warning"])
    expect(page.locator("label:has(#confirmed)")).to_have_text(text["policy_checkbox"])
    before = _tenant_mfa(live)
    page.click("#mfa-confirm")
    expect(page.locator("[role=alert]")).to_have_text(text["policy_unchecked"])
    assert _tenant_mfa(live) is before
    page.check("#confirmed")
    page.click("#mfa-confirm")
    expect(page.locator("#mfa-policy-done")).to_have_text(text[f"policy_{choice}"])
    assert _tenant_mfa(live) is (choice == "on")


def test_holder_turns_two_step_on_and_off(live, page: Page, new_page: Callable[[], Page], locale: str):
    sign_in(page, live, DEMO_HOLDER)
    expect_menu(page, locale)

    _set_policy(page, live, locale, "on")
    user = new_page()
    sign_in(user, live)
    expect_second_step(user, locale, "/mfa/setup/sms")

    _set_policy(page, live, locale, "off")
    user = new_page()
    sign_in(user, live)
    expect_menu(user, locale)
