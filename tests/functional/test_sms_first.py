"""Manual §1.1, since its version 4.0: the first two-step enrolment page is the SMS
one, with the link 「QRコードでの認証はこちら」 to the authenticator app's."""

from __future__ import annotations

from ..journeys import set_tenant_mfa
from ..mfa_steps import align_to_step, path_of, secret_on, sign_in, totp_code
from ..rp import parse_forms, text_of

QR_LINK_JA = "QRコードでの認証はこちら"
QR_LINK_EN = "Use a QR code (authenticator app) instead"


def test_the_first_page_is_the_sms_enrolment(live, sms):
    set_tenant_mfa(live, True)
    browser = live.browser()
    page = sign_in(browser)
    assert path_of(page) == "/mfa/setup/sms"
    assert [set(f["fields"]) for f in parse_forms(page.text)] == [{"csrf_token", "phone"}]
    assert 'id="setup-reason"' in page.text
    assert f'<a id="choose-totp" href="/mfa/setup/totp">{QR_LINK_JA}</a>' in page.text
    assert QR_LINK_EN in browser.get("/mfa/setup/sms?lang=en").text
    assert path_of(browser.get("/mfa/setup")) == "/mfa/setup/sms"  # the old entry leads there too


def test_the_authenticator_is_one_link_away(live):
    set_tenant_mfa(live, True)
    browser = live.browser()
    sign_in(browser)
    align_to_step()
    page = browser.get("/mfa/setup/totp")
    assert "otpauth://" in page.text and "SMS（ショートメッセージ）での認証はこちら" in text_of(page.text)
    page = browser.submit({"code": totp_code(secret_on(page.text))})
    assert 'id="recovery-code"' in page.text
