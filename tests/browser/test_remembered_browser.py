"""Manual §1.1: "remember this browser" skips the second step until the browser has
not been used for 30 days; other browsers are still asked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from playwright.sync_api import Page

from idp import clock

from ..journeys import set_tenant_mfa
from ..mfa_steps import align_to_step
from .helpers import enrol_totp, expect_menu, expect_second_step, log_out, sign_in


def test_remembered_until_30_days_of_disuse(live, page: Page, new_page: Callable[[], Page], locale: str):
    set_tenant_mfa(live, True)
    align_to_step()
    sign_in(page, live)
    enrol_totp(page, remember=True)
    expect_menu(page, locale)

    log_out(page, live)
    sign_in(page, live)
    expect_menu(page, locale)  # no second step

    other = new_page()
    sign_in(other, live)
    expect_second_step(other, locale, "/mfa/challenge")

    clock.advance(timedelta(days=29))  # used again within 30 days: still remembered
    sign_in(page, live)
    expect_menu(page, locale)

    clock.advance(timedelta(days=30, minutes=1))  # then 30 days without use
    sign_in(page, live)
    expect_second_step(page, locale, "/mfa/challenge")
