"""Manual §1.1 (1): first login with SMS enrolment, in Japanese and in English."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

from ..journeys import set_tenant_mfa
from ..rp import DEMO_PASSWORD, DEMO_USER
from ..transports import code_in

TEXT = {
    "ja": {"login": "ログイン", "sms": "SMS", "done": "2段階認証が完了しました", "qr_link": "QRコードでの認証はこちら"},
    "en": {
        "login": "Log in",
        "sms": "SMS",
        "done": "Two-step verification is complete",
        "qr_link": "Use a QR code (authenticator app) instead",
    },
}


def test_first_login_enrols_sms(live, sms, page: Page, locale: str):
    set_tenant_mfa(live, True)
    rp = live.rp()
    page.route(re.compile(r"^http://127\.0\.0\.1:8080/.*"), lambda route: route.fulfill(status=200, body="callback"))
    page.goto(rp.authorization_url())
    expect(page.locator("h1")).to_have_text(TEXT[locale]["login"])
    page.fill("input[name=email]", DEMO_USER)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.click("button[type=submit]")
    expect(page).to_have_url(re.compile(r"/mfa/setup/sms$"))  # the first enrolment page (manual §1.1, v4.0)
    expect(page.locator("#choose-totp")).to_have_text(TEXT[locale]["qr_link"])
    page.fill("input[name=phone]", "090-1234-5678")
    page.click("button[type=submit]")
    code = code_in(sms.inbox.wait_for("+819012345678").body)
    page.fill("input[name=code]", code)
    page.check("input[name=remember]")
    page.click("button[type=submit]")
    recovery = page.locator("#recovery-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{5}(-[A-Z2-9]{5}){3}", recovery)
    page.check("input[name=saved]")
    page.click("button[type=submit]")
    expect(page.locator("main")).to_contain_text(TEXT[locale]["done"])
    with page.expect_request(re.compile(r"^http://127\.0\.0\.1:8080/callback")) as request:
        page.click("#continue")
    params = dict(re.findall(r"[?&]([^=&]+)=([^&]*)", request.value.url))
    token = rp.exchange({k: __import__("urllib.parse").parse.unquote(v) for k, v in params.items()})
    assert rp.verify_id_token(token["id_token"])["amr"] == ["pwd", "sms", "mfa"]
