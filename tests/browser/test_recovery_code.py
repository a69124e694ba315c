"""Manual §5 (参考): signing in with the recovery code after losing the phone. The code
is accepted as copied, a new one is shown at once, and the old one is dead."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from ..journeys import set_tenant_mfa
from ..mfa_steps import align_to_step
from .helpers import TEXT, enrol_totp, expect_menu, expect_second_step, save_recovery_code, sign_in, submit


def _use_recovery_code(page: Page, typed: str) -> None:
    page.click("#recovery-link")
    page.fill("input[name=recovery_code]", typed)
    submit(page, "recovery_code")


def test_recovery_code_signs_in_and_is_replaced(live, page: Page, new_page: Callable[[], Page], locale: str):
    set_tenant_mfa(live, True)
    align_to_step()
    sign_in(page, live)
    _secret, first = enrol_totp(page)
    expect_menu(page, locale)

    lost_phone = new_page()
    sign_in(lost_phone, live)
    expect_second_step(lost_phone, locale, "/mfa/challenge")
    # As copied from a text file: spaces around and between the groups.
    _use_recovery_code(lost_phone, "  " + first.replace("-", " - ", 1).replace("-", " ", 1).lower() + " ")
    second = save_recovery_code(lost_phone)
    assert second != first
    expect_menu(lost_phone, locale)

    another = new_page()
    sign_in(another, live)
    _use_recovery_code(another, first)
    expect(another.locator("#recovery-error")).to_have_text(TEXT[locale]["recovery_wrong"])
    another.fill("input[name=recovery_code]", second)
    submit(another, "recovery_code")
    assert save_recovery_code(another) not in (first, second)
    expect_menu(another, locale)
