"""Two-step verification over plain HTTP: enrolment by SMS, challenge, recovery code."""

from __future__ import annotations

from ..journeys import set_tenant_mfa
from ..rp import DEMO_USER, callback_params, parse_forms
from ..transports import code_in

PHONE_E164 = "+819012345678"


def test_sms_enrolment_then_tokens_carry_sms_and_mfa(live, sms):
    set_tenant_mfa(live, True)
    rp, browser = live.rp(), live.browser()
    page = browser.login(rp.authorization_url())
    assert page.url.endswith("/mfa/setup/sms"), page.url  # SMS first (manual §1.1)
    browser.get("/mfa/setup/sms")
    page = browser.submit({"phone": "090-1234-5678"})
    assert page.url.endswith("/mfa/setup/sms/verify")
    code = code_in(sms.inbox.wait_for(PHONE_E164).body)
    page = browser.submit({"code": code, "remember": "y"})
    assert 'id="recovery-code"' in page.text
    page = browser.submit({"saved": "y"})
    assert page.url.endswith("/mfa/done")
    form = parse_forms(page.text)[0]
    response = browser.http.post(live.url + "/mfa/done", data=form["fields"], allow_redirects=False)
    callback = callback_params(browser.follow(response))
    token = rp.exchange(callback)
    claims = rp.verify_id_token(token["id_token"])
    assert claims["email"] == DEMO_USER
    assert claims["amr"] == ["pwd", "sms", "mfa"]
