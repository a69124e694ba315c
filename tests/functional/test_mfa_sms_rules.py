"""SMS codes (manual §1.1 (1)): valid 10 minutes, at most 5 tries, used once, resends
throttled; a wrong, expired or used code and a failing gateway each give a clear
page and use up nothing else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp import clock

from ..journeys import set_tenant_mfa
from ..mfa_steps import PHONE, PHONE_E164, audit_events, clone, enrol_sms, is_enrolled, path_of, post_form, sign_in
from ..rp import Browser
from ..transports import code_in

CODE_ERROR = 'id="code-error"'
WRONG = "認証コードが正しくありません"
USED_UP = "この認証コードは使用できません"
TOO_SOON = "認証コードを送信したばかりです"
NOT_SENT = "SMSを送信できませんでした"


@pytest.fixture
def enrolling(live, sms) -> Browser:
    """A browser on the SMS code page of a first enrolment, the code sent."""
    set_tenant_mfa(live, True)
    browser = live.browser()
    assert path_of(sign_in(browser)) == "/mfa/setup/sms"
    browser.get("/mfa/setup/sms")
    page = browser.submit({"phone": PHONE})
    assert path_of(page) == "/mfa/setup/sms/verify"
    return browser


def _last_code(sms, after: int = 0) -> str:
    return code_in(sms.inbox.wait_for(PHONE_E164, after=after).body)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


def _resend(browser: Browser):
    """Press "send the code again" on the code page."""
    return browser.follow(post_form(browser, {}, form_index=1))


@pytest.mark.parametrize(
    ("wait", "accepted"), [(timedelta(minutes=9, seconds=50), True), (timedelta(minutes=10), False)]
)
def test_code_is_valid_ten_minutes(live, sms, enrolling, wait, accepted):
    code = _last_code(sms)
    clock.advance(wait)
    page = enrolling.submit({"code": code})
    if accepted:
        assert 'id="recovery-code"' in page.text
    else:
        assert page.status_code == 200 and CODE_ERROR in page.text and USED_UP in page.text
        assert not is_enrolled(live)


@pytest.mark.parametrize(("wrong_tries", "accepted"), [(4, True), (5, False)])
def test_at_most_five_tries_per_code(live, sms, enrolling, wrong_tries, accepted):
    code = _last_code(sms)
    for _ in range(wrong_tries):
        page = enrolling.submit({"code": _wrong(code)})
        assert CODE_ERROR in page.text and WRONG in page.text
    page = enrolling.submit({"code": code})
    assert ('id="recovery-code"' in page.text) is accepted
    if not accepted:
        assert USED_UP in page.text and not is_enrolled(live)


def test_a_wrong_code_changes_nothing(live, sms, enrolling):
    code = _last_code(sms)
    page = enrolling.submit({"code": _wrong(code)})
    assert page.status_code == 200 and WRONG in page.text
    assert path_of(page) == "/mfa/setup/sms/verify"
    assert not is_enrolled(live) and sms.inbox.count(PHONE_E164) == 1
    assert 'id="recovery-code"' in enrolling.submit({"code": code}).text


def test_resend_is_throttled_and_replaces_the_code(live, sms, enrolling):
    first = _last_code(sms)
    refused = _resend(enrolling)
    assert refused.status_code == 429 and TOO_SOON in refused.text
    assert sms.inbox.count(PHONE_E164) == 1
    enrolling.get("/mfa/setup/sms/verify")
    clock.advance(timedelta(seconds=61))
    assert path_of(_resend(enrolling)) == "/mfa/setup/sms/verify"
    second = _last_code(sms, after=1)
    if second != first:
        assert WRONG in enrolling.submit({"code": first}).text
    assert 'id="recovery-code"' in enrolling.submit({"code": second}).text


def test_at_most_five_codes_an_hour(live, sms, enrolling):
    for sent in range(2, 6):
        clock.advance(timedelta(seconds=61))
        _resend(enrolling)
        assert sms.inbox.count(PHONE_E164) == sent
    clock.advance(timedelta(seconds=61))
    refused = _resend(enrolling)
    assert refused.status_code == 429 and "認証コードの送信は1時間に5回までです" in refused.text
    assert sms.inbox.count(PHONE_E164) == 5
    clock.advance(timedelta(hours=1))
    browser = live.browser()
    sign_in(browser)
    browser.get("/mfa/setup/sms")
    assert path_of(browser.submit({"phone": PHONE})) == "/mfa/setup/sms/verify"
    assert sms.inbox.count(PHONE_E164) == 6


def test_wrong_and_expired_codes_at_login_change_nothing(live, sms):
    set_tenant_mfa(live, True)
    enrol_sms(live)
    browser = live.browser()
    assert path_of(sign_in(browser)) == "/mfa/challenge"
    code = _last_code(sms)
    page = browser.submit({"code": _wrong(code)})
    assert (path_of(page), page.status_code) == ("/mfa/challenge", 200) and WRONG in page.text
    clock.advance(timedelta(minutes=10))
    page = browser.submit({"code": code})
    assert path_of(page) == "/mfa/challenge" and USED_UP in page.text
    assert path_of(_resend(browser)) == "/mfa/challenge"  # the same sign-in goes on
    answer = post_form(browser, {"code": _last_code(sms, after=1)})
    assert answer.is_redirect and answer.headers["Location"].endswith("/account")


def test_a_used_code_cannot_be_used_again(live, sms):
    set_tenant_mfa(live, True)
    enrol_sms(live)
    browser = live.browser()
    assert path_of(sign_in(browser)) == "/mfa/challenge"
    code, twin = _last_code(sms), clone(browser)
    assert post_form(browser, {"code": code}).is_redirect
    page = twin.submit({"code": code})
    assert page.status_code == 200 and USED_UP in page.text


# -- a failing gateway --------------------------------------------------------------


def test_failing_gateway_at_enrolment_uses_nothing_up(live, sms):
    set_tenant_mfa(live, True)
    browser = live.browser()
    sign_in(browser)
    browser.get("/mfa/setup/sms")
    sms.failing = True
    page = browser.submit({"phone": PHONE})
    assert NOT_SENT in page.text and path_of(page) == "/mfa/setup/sms"
    sms.failing = False
    assert [e.detail["purpose"] for e in audit_events(live, "mfa.sms_failed")] == ["enrol"]
    assert audit_events(live, "mfa.sms_sent") == []
    # No code counts as sent: asking again at once is not throttled.
    page = browser.submit({"phone": PHONE})
    assert path_of(page) == "/mfa/setup/sms/verify"
    assert 'id="recovery-code"' in browser.submit({"code": _last_code(sms)}).text


def test_failing_gateway_at_login_uses_nothing_up(live, sms):
    set_tenant_mfa(live, True)
    enrol_sms(live)
    browser = live.browser()
    sms.failing = True
    page = sign_in(browser)
    assert page.status_code == 503 and NOT_SENT in page.text and 'id="mfa-error"' in page.text
    sms.failing = False
    page = browser.get("/mfa/next")
    assert path_of(page) == "/mfa/challenge"
    assert post_form(browser, {"code": _last_code(sms)}).is_redirect


def test_failing_gateway_at_resend_keeps_the_code(live, sms, enrolling):
    code = _last_code(sms)
    clock.advance(timedelta(seconds=61))
    sms.failing = True
    page = _resend(enrolling)
    assert page.status_code == 503 and NOT_SENT in page.text
    sms.failing = False
    enrolling.get("/mfa/setup/sms/verify")
    assert 'id="recovery-code"' in enrolling.submit({"code": code}).text


# -- phone numbers as people type them ------------------------------------------------


@pytest.mark.parametrize("typed", ["09012345678", "０９０ー１２３４ー５６７８", "+81 90-1234-5678", "(090) 1234 5678"])
def test_japanese_formats_reach_the_same_number(live, sms, typed):
    set_tenant_mfa(live, True)
    browser = live.browser()
    sign_in(browser)
    browser.get("/mfa/setup/sms")
    assert path_of(browser.submit({"phone": typed})) == "/mfa/setup/sms/verify"
    assert sms.inbox.wait_for(PHONE_E164).to == PHONE_E164


def test_a_number_that_takes_no_sms_is_refused(live, sms):
    set_tenant_mfa(live, True)
    browser = live.browser()
    sign_in(browser)
    browser.get("/mfa/setup/sms")
    page = browser.submit({"phone": "03-1234-5678"})
    assert path_of(page) == "/mfa/setup/sms" and "090-1234-5678" in page.text
    assert sms.inbox.items == [] and not is_enrolled(live)
