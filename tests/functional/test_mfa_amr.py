"""``amr`` in the ID token says how the person signed in (RFC 8176): the second step
by SMS or authenticator adds ``mfa``; a remembered browser skips it and says ``pwd``."""

from __future__ import annotations

from typing import Any

import requests

from ..journeys import set_tenant_mfa
from ..mfa_steps import (
    PHONE_E164,
    align_to_step,
    enrol_sms,
    enrol_totp,
    finish_enrolment,
    log_out,
    path_of,
    secret_on,
    totp_code,
)
from ..rp import Browser, RelyingParty, callback_params
from ..transports import code_in


def _claims(rp: RelyingParty, response: requests.Response) -> dict[str, Any]:
    token = rp.exchange(callback_params(response))
    return rp.verify_id_token(token["id_token"], token["access_token"])


def _start(live, browser: Browser) -> tuple[RelyingParty, requests.Response]:
    rp = live.rp()
    return rp, browser.login(rp.authorization_url())


def test_sms_challenge(live, sms):
    set_tenant_mfa(live, True)
    enrol_sms(live)
    rp, page = _start(live, browser := live.browser())
    assert path_of(page) == "/mfa/challenge"
    answer = browser.submit({"code": code_in(sms.inbox.wait_for(PHONE_E164).body)})
    assert _claims(rp, answer)["amr"] == ["pwd", "sms", "mfa"]


def test_totp_enrolment_and_challenge(live):
    set_tenant_mfa(live, True)
    align_to_step()
    rp, page = _start(live, browser := live.browser())
    assert path_of(page) == "/mfa/setup/sms"
    secret = secret_on(browser.get("/mfa/setup/totp").text)
    browser.submit({"code": totp_code(secret)})
    assert _claims(rp, finish_enrolment(browser))["amr"] == ["pwd", "otp", "mfa"]

    rp, page = _start(live, browser := live.browser())
    assert path_of(page) == "/mfa/challenge"
    assert _claims(rp, browser.submit({"code": totp_code(secret, 1)}))["amr"] == ["pwd", "otp", "mfa"]


def test_recovery_code(live):
    set_tenant_mfa(live, True)
    _secret, recovery = enrol_totp(live)
    rp, _page = _start(live, browser := live.browser())
    browser.get("/mfa/recovery")
    assert 'id="recovery-code"' in browser.submit({"recovery_code": recovery}).text
    assert _claims(rp, finish_enrolment(browser))["amr"] == ["pwd", "mfa"]


def test_remembered_browser_says_password_only(live):
    set_tenant_mfa(live, True)
    align_to_step()
    secret, _recovery = enrol_totp(live)
    rp, _page = _start(live, browser := live.browser())
    assert _claims(rp, browser.submit({"code": totp_code(secret), "remember": "y"}))["amr"] == ["pwd", "otp", "mfa"]
    log_out(browser)
    rp, answer = _start(live, browser)
    assert _claims(rp, answer)["amr"] == ["pwd"]


def test_no_second_step_when_the_tenant_has_it_off(live):
    rp, answer = _start(live, live.browser())
    assert _claims(rp, answer)["amr"] == ["pwd"]
