"""Changing the two-step verification device (manual §1.1 ③, §5.2): only after the
factor the person has (an SMS code to the current phone, the current
authenticator code) or the recovery code; then the new phone or authenticator
is enrolled as at a first sign-in, the new recovery code is shown once, the
change is audited and mailed. Without the proof nothing changes."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp import clock

from ..account_steps import factor_method, mail_titled, post, signed_in_as
from ..journeys import set_tenant_mfa
from ..line_steps import OTHER_LINE, line_only_with, serve
from ..mfa_steps import (
    PHONE_E164,
    align_to_step,
    audit_events,
    enrol_sms,
    enrol_totp,
    enrolment_rows,
    path_of,
    recovery_code_on,
    secret_on,
    sign_in,
    totp_code,
)
from ..rp import DEMO_HOLDER, DEMO_USER, Browser
from ..transports import code_in

START = "/account/two-step-device"
NEW_PHONE = "080-9876-5432"
NEW_PHONE_E164 = "+818098765432"
SUBJECT = "【コワークストレージ】2段階認証の端末変更のお知らせ"


@pytest.fixture
def live(database_url, tmp_path, key_template, mail, sms):
    """The provider with line authentication on (for the line-only case)."""
    yield from serve(database_url, tmp_path, key_template, mail, sms)


def _signed_in(live) -> Browser:  # type: ignore[no-untyped-def]
    """The demo user, signed in (the demo tenant does not ask for the second step)."""
    return signed_in_as(live, DEMO_USER)


def _new_phone(browser: Browser, sms, sent_before: int = 0) -> str:
    """From the new-device page: the new number and its code; the new recovery code."""
    assert path_of(browser.last) == f"{START}/new" and 'id="choose-totp"' in browser.last.text
    assert path_of(browser.submit({"phone": NEW_PHONE})) == f"{START}/new/verify"
    page = browser.submit({"code": code_in(sms.inbox.wait_for(NEW_PHONE_E164, after=sent_before).body)})
    code = recovery_code_on(page.text)
    assert 'id="device-changed"' in browser.submit({"saved": "y"}).text
    return code


def test_an_authenticator_replaced_by_a_phone(live, sms, mail):
    secret, old_recovery = enrol_totp(live)
    align_to_step()
    browser = _signed_in(live)
    page = browser.get(START)
    assert page.status_code == 200 and 'name="code"' in page.text
    wrong = browser.submit({"code": totp_code(secret, 5)})
    assert 'id="code-error"' in wrong.text and path_of(wrong) == START
    assert path_of(browser.get(f"{START}/new")) == START  # not proven: back to the proof
    browser.get(START)
    assert path_of(browser.submit({"code": totp_code(secret)})) == f"{START}/new"
    new_recovery = _new_phone(browser, sms)
    assert new_recovery != old_recovery

    (row,) = enrolment_rows(live)
    assert (row.method, row.phone, row.totp_secret) == ("sms", NEW_PHONE_E164, None)
    (event,) = audit_events(live, "mfa.device_changed")
    assert event.detail == {"previous": "totp", "method": "sms"}
    assert "SMS" in mail_titled(mail, DEMO_USER, SUBJECT).body
    set_tenant_mfa(live, True)
    clock.advance(timedelta(seconds=61))  # one SMS a minute
    other = live.browser()
    assert path_of(sign_in(other)) == "/mfa/challenge"  # the new phone is asked for
    assert sms.inbox.wait_for(NEW_PHONE_E164, after=1)
    other.get("/mfa/recovery")
    assert 'id="recovery-error"' in other.submit({"recovery_code": old_recovery}).text


def test_a_phone_replaced_by_an_authenticator(live, sms, mail):
    enrol_sms(live)
    browser = _signed_in(live)
    page = browser.get(START)
    assert 'name="code"' not in page.text and 'id="device-send"' in page.text
    page = browser.submit({})  # send a code to the current phone
    assert path_of(page) == START and 'name="code"' in page.text
    code = code_in(sms.inbox.wait_for(PHONE_E164).body)
    assert path_of(browser.submit({"code": code}, form_index=1)) == f"{START}/new"
    align_to_step()
    secret = secret_on(browser.get(f"{START}/new/totp").text)
    page = browser.submit({"code": totp_code(secret)})
    recovery_code_on(page.text)
    assert 'id="device-changed"' in browser.submit({"saved": "y"}).text
    assert factor_method(live, DEMO_USER) == "totp"


def test_the_recovery_code_stands_in_for_a_lost_device(live, sms, mail):
    _secret, recovery = enrol_totp(live)
    browser = _signed_in(live)
    browser.get(f"{START}/recovery")
    assert 'id="recovery-error"' in browser.submit({"recovery_code": "AAAAA-BBBBB-CCCCC-DDDDD"}).text
    assert path_of(browser.submit({"recovery_code": recovery})) == f"{START}/new"
    _new_phone(browser, sms)
    assert factor_method(live, DEMO_USER) == "sms"


def test_a_recovery_code_proves_one_change(live, sms, mail):
    """Two sessions prove with the same recovery code; the first to finish wins,
    and the second finds the code spent."""
    _secret, recovery = enrol_totp(live)
    first, second = _signed_in(live), _signed_in(live)
    for browser in (first, second):
        browser.get(f"{START}/recovery")
        assert path_of(browser.submit({"recovery_code": recovery})) == f"{START}/new"
    _new_phone(first, sms)
    second.get(f"{START}/new")
    assert path_of(second.last) == START  # the factor it proved is gone


def test_without_the_proof_nothing_changes(live, sms, mail):
    secret, _recovery = enrol_totp(live)
    browser = _signed_in(live)
    browser.get(START)
    for path, fields in [
        (f"{START}/new", {"phone": NEW_PHONE}),
        (f"{START}/new/totp", {"code": "123456"}),
        (f"{START}/new/verify", {"code": "123456"}),
    ]:
        assert path_of(post(browser, path, fields)) == START, path
    assert sms.inbox.items == [] and factor_method(live, DEMO_USER) == "totp"
    (row,) = enrolment_rows(live)
    assert row.totp_secret is not None
    assert audit_events(live, "mfa.device_changed") == []


def test_a_proof_belongs_to_its_session(live, sms, mail):
    secret, _recovery = enrol_totp(live)
    align_to_step()
    browser = _signed_in(live)
    browser.get(START)
    assert path_of(browser.submit({"code": totp_code(secret)})) == f"{START}/new"
    assert path_of(browser.get(f"{START}/new")) == f"{START}/new"
    # The same person's other session, carrying the first one's state cookie.
    other = _signed_in(live)
    state = next(c for c in browser.http.cookies if c.name == "idp_flow")
    other.http.cookies.set("idp_flow", None)
    other.http.cookies.set_cookie(state)
    assert [c.value for c in other.http.cookies if c.name == "idp_flow"] == [state.value]
    assert path_of(other.get(f"{START}/new")) == START


def test_a_person_without_a_device_is_told(live):
    page = _signed_in(live).get(START)
    assert page.status_code == 200 and 'id="device-none"' in page.text


def test_the_page_needs_a_session(live):
    assert path_of(live.browser().get(START)) == "/account/login"


def test_a_line_only_holder_from_the_internet_keeps_the_way_back(live, sms, mail):
    """Manual §4.2: the factor from before line-only is the holder's way back to the
    access route setting from the internet; it is not replaced from there."""
    align_to_step()
    secret, recovery = enrol_totp(live, DEMO_HOLDER)
    line_only_with(live, OTHER_LINE)
    browser = live.browser()
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/mfa/challenge"
    assert path_of(browser.submit({"code": totp_code(secret)})) == "/account"
    page = browser.get(START)
    assert page.status_code == 403 and 'id="device-refused"' in page.text
    browser.get("/account")  # a page with a CSRF token
    answer = post(browser, f"{START}/recovery", {"recovery_code": recovery})
    assert answer.status_code == 403
    assert factor_method(live, DEMO_HOLDER) == "totp" and audit_events(live, "mfa.device_change_proven") == []
