"""Manual §0 ※1: the free trial has ended; its users are refused, and its holder,
signing in within the grace days, is led to the plan change alone, changes to
the basic plan through the confirmation page, and the users are back in."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from playwright.sync_api import Page, expect

from idp import clock

from ..plan_steps import TRIAL_HOLDER, TRIAL_USER, days, trial_tenant
from .helpers import expect_menu, sign_in

TEXT = {
    "ja": {
        "refused": "ご契約の無料トライアル期間が終了したため、ログインできません。",
        "plan": "プラン変更",
        "grace": "無料トライアルの場合、トライアル期間終了後15日以内であれば、基本プランへのプラン変更が可能です。",
        "confirm": "プラン変更の確認",
        "basic": "基本プラン",
        "done": "基本プランへのプラン変更が完了しました。",
    },
    "en": {
        "refused": "The free trial period of your contract has ended, so you cannot log in.",
        "plan": "Plan change",
        "grace": "In a free trial, you can change to the basic plan within 15 days after the trial period ends.",
        "confirm": "Confirm the plan change",
        "basic": "Basic plan",
        "done": "The plan has been changed to the basic plan.",
    },
}


def test_a_trial_ends_and_its_holder_changes_to_basic(live, page: Page, new_page: Callable[[], Page], locale: str):
    text = TEXT[locale]
    trial_tenant(live)
    clock.advance(days(live.settings.trial_days) + timedelta(minutes=1))

    user = new_page()
    sign_in(user, live, TRIAL_USER)
    expect(user.locator("#contract-ended")).to_have_text(text["refused"])

    sign_in(page, live, TRIAL_HOLDER)
    expect(page.locator("h1")).to_have_text(text["plan"])
    expect(page.locator("#trial-ended")).to_be_visible()
    expect(page.locator("main")).to_contain_text(text["grace"])
    expect(page.locator("label:has(#plan-basic-choice)")).to_have_text(text["basic"])
    page.check("#plan-basic-choice")
    page.click("#plan-submit")
    expect(page.locator("h1")).to_have_text(text["confirm"])
    expect(page.locator("#new-plan")).to_have_text(text["basic"])
    page.click("#plan-confirm")
    expect(page.locator("#plan-done")).to_have_text(text["done"])

    user = new_page()
    sign_in(user, live, TRIAL_USER)
    expect_menu(user, locale)
