"""A person who enrols by SMS and signs in again on another browser within a minute
(or after five codes in an hour) gets the challenge page, never a dead end: it
names the limit actually reached and when a new code can be sent, and offers
the resend and the recovery code."""

from __future__ import annotations

import re
from datetime import timedelta

from idp import clock

from ..journeys import set_tenant_mfa
from ..mfa_steps import PHONE, PHONE_E164, finish_enrolment, path_of, post_form, recovery_code_on, sign_in
from ..rp import Browser, text_of
from ..transports import code_in

MINUTE_JA = "認証コードの送信は1分間に1回までです。"
HOUR_JA = "認証コードの送信は1時間に5回までです。"
SECONDS_JA = re.compile(r"あと(\d+)秒で新しい認証コードを送信できます。")
MINUTES_JA = re.compile(r"あと(\d+)分で新しい認証コードを送信できます。")


def _enrol_by_sms(live, sms) -> str:  # type: ignore[no-untyped-def]
    """A first sign-in that enrols a phone; returns its recovery code."""
    browser = live.browser()
    assert path_of(sign_in(browser)) == "/mfa/setup/sms"
    browser.submit({"phone": PHONE})
    page = browser.submit({"code": code_in(sms.inbox.wait_for(PHONE_E164).body)})
    code = recovery_code_on(page.text)
    finish_enrolment(browser)
    return code


def _resend(browser: Browser):  # type: ignore[no-untyped-def]
    return browser.follow(post_form(browser, {}, form_index=1))


def test_another_browser_within_the_minute_gets_the_challenge(live, sms):
    set_tenant_mfa(live, True)
    recovery = _enrol_by_sms(live, sms)
    browser = live.browser()
    page = sign_in(browser)
    assert (path_of(page), page.status_code) == ("/mfa/challenge", 200)
    text = text_of(page.text)
    assert MINUTE_JA in text and "1時間" not in text
    wait = int(SECONDS_JA.search(text).group(1))
    assert 0 < wait <= 60
    assert 'id="resend"' in page.text and 'id="recovery-link"' in page.text
    assert sms.inbox.count(PHONE_E164) == 1

    early = _resend(browser)
    assert (path_of(early), early.status_code) == ("/mfa/resend/login", 429)
    assert MINUTE_JA in text_of(early.text) and 'id="resend"' in early.text and 'id="recovery-link"' in early.text
    assert sms.inbox.count(PHONE_E164) == 1

    clock.advance(timedelta(seconds=61))
    assert path_of(_resend(browser)) == "/mfa/challenge"
    code = code_in(sms.inbox.wait_for(PHONE_E164, after=1).body)
    assert post_form(browser, {"code": code}).headers["Location"].endswith("/account")

    other = live.browser()  # and the recovery code is a way forward at once
    clock.advance(timedelta(seconds=1))
    sign_in(other)
    other.get("/mfa/recovery")
    assert 'id="recovery-code"' in other.submit({"recovery_code": recovery}).text


def test_the_hourly_limit_is_named_as_such(live, sms):
    set_tenant_mfa(live, True)
    _enrol_by_sms(live, sms)
    browser = live.browser()
    for sent in range(2, 6):
        clock.advance(timedelta(seconds=61))
        if sent == 2:
            assert path_of(sign_in(browser)) == "/mfa/challenge"
        else:
            _resend(browser)
        assert sms.inbox.count(PHONE_E164) == sent
    clock.advance(timedelta(seconds=61))
    other = live.browser()
    page = sign_in(other)
    assert (path_of(page), page.status_code) == ("/mfa/challenge", 200)
    text = text_of(page.text)
    assert HOUR_JA in text and MINUTE_JA not in text
    assert 0 < int(MINUTES_JA.search(text).group(1)) <= 60
    refused = _resend(other)
    assert refused.status_code == 429 and HOUR_JA in text_of(refused.text)
    assert sms.inbox.count(PHONE_E164) == 5
