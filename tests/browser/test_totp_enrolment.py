"""Manual §1.1 (2): enrolling an authenticator app, then signing in with it. A code is
good once; one step of clock skew either way is accepted. The secret is shown once:
after a wrong code only the code is asked again."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from ..journeys import set_tenant_mfa
from ..mfa_steps import align_to_step, secret_from_uri, totp_code
from .helpers import TEXT, enter_code, expect_menu, expect_second_step, log_out, save_recovery_code, sign_in


def _wrong(code: str) -> str:
    return f"{(int(code) + 500_000) % 10**6:06d}"


def test_enrol_an_authenticator_then_sign_in_with_it(live, page: Page, locale: str):
    set_tenant_mfa(live, True)
    align_to_step()
    sign_in(page, live)
    expect_second_step(page, locale, "/mfa/setup/sms")
    page.click("#choose-totp")
    uri = page.locator("#totp-uri").inner_text()
    secret = secret_from_uri(uri)
    expect(page.locator("img[src^='data:image/svg+xml']")).to_be_visible()

    enter_code(page, _wrong(totp_code(secret)))
    expect(page.locator("#code-error")).to_contain_text(TEXT[locale]["totp_wrong"])
    expect(page.locator("#totp-uri")).to_have_count(0)  # the secret is shown once
    expect(page.locator("#new-qr")).to_be_visible()

    enter_code(page, totp_code(secret, -1))  # the same secret; the phone's clock a step behind
    save_recovery_code(page)
    expect_menu(page, locale)

    log_out(page, live)
    sign_in(page, live)
    expect_second_step(page, locale, "/mfa/challenge")
    enter_code(page, totp_code(secret, -1))  # already used
    expect(page.locator("#code-error")).to_contain_text(TEXT[locale]["totp_wrong"])
    enter_code(page, totp_code(secret, 1))  # the phone's clock a step ahead
    expect_menu(page, locale)
