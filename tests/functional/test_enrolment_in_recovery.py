"""A holder signing in from the internet to undo line-only (manual §4.1) gives a
second factor set up before; that sign-in never sets one up, whatever page it
asks for: whoever has the password would otherwise hold the contract. A factor
set up over a registered line records that line."""

from __future__ import annotations

import pytest

from idp import db
from idp.mfa import enrolment

from ..conftest import Live
from ..line_steps import LINE, OTHER_LINE, line_browser, line_only_with, register_line, serve, set_mfa
from ..mfa_steps import (
    PHONE,
    PHONE_E164,
    align_to_step,
    audit_events,
    enrol_totp,
    enrolment_rows,
    path_of,
    sign_in,
    totp_code,
    user_named,
)
from ..rp import DEMO_HOLDER, DEMO_USER, Browser, parse_forms
from ..transports import code_in

REFUSED_JA = "このログインでは2段階認証を設定できません。"
REFUSED_EN = (
    "Two-step verification cannot be set up in this sign-in. "
    "Sign in over a registered line, or ask the service operator."
)


@pytest.fixture
def live(database_url, tmp_path, key_template, mail, sms):
    yield from serve(database_url, tmp_path, key_template, mail, sms)


def _factor_gone(live: Live) -> None:
    """The holder's factor is removed while the recovery sign-in waits for it."""
    with live.app.app_context():
        enrolment.clear(user_named(DEMO_HOLDER))
        db.commit()


@pytest.fixture
def recovering(live: Live) -> tuple[Browser, str]:
    """A holder's recovery sign-in waiting at the second step, with no factor left;
    and a CSRF token of that session, so that refusals are not form errors."""
    align_to_step()
    enrol_totp(live, DEMO_HOLDER)
    line_only_with(live, OTHER_LINE)
    browser = live.browser()
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/mfa/challenge"
    token = parse_forms(browser.last.text)[0]["fields"]["csrf_token"]
    _factor_gone(live)
    return browser, token


ENROLMENT_PAGES = ["/mfa/next", "/mfa/setup", "/mfa/setup/sms", "/mfa/setup/totp", "/mfa/setup/sms/verify"]


@pytest.mark.parametrize("path", ENROLMENT_PAGES)
def test_no_enrolment_page_opens(live, sms, recovering, path):
    browser, _token = recovering
    page = browser.get(path)
    assert page.status_code == 403 and 'id="mfa-error"' in page.text and REFUSED_JA in page.text
    assert "otpauth://" not in page.text
    assert enrolment_rows(live, DEMO_HOLDER) == []


@pytest.mark.parametrize(
    ("path", "fields"),
    [
        ("/mfa/setup/sms", {"phone": PHONE}),
        ("/mfa/setup/totp", {"code": "123456"}),
        ("/mfa/setup/sms/verify", {"code": "123456"}),
        ("/mfa/resend/enrol", {}),
    ],
)
def test_no_enrolment_form_is_taken(live, sms, recovering, path, fields):
    browser, token = recovering
    answer = browser.http.post(live.url + path, data={"csrf_token": token, **fields}, allow_redirects=False)
    assert answer.status_code == 403 and REFUSED_JA in answer.text
    assert sms.inbox.items == [] and enrolment_rows(live, DEMO_HOLDER) == []
    assert [e.email for e in audit_events(live, "mfa.enrolment_refused")] == [DEMO_HOLDER]


def test_the_refusal_in_english(live, recovering):
    browser, _token = recovering
    page = browser.get("/mfa/setup?lang=en")
    assert page.status_code == 403 and REFUSED_EN in page.text


def test_the_factor_it_has_is_still_asked_for(live, recovering):
    """With a factor that may undo line-only (here: set up over a line) in place,
    the same sign-in goes on through the challenge."""
    browser, _token = recovering
    secret, _recovery = enrol_totp(live, DEMO_HOLDER, line_id=OTHER_LINE)
    assert path_of(browser.get("/mfa/challenge")) == "/mfa/challenge"
    assert path_of(browser.submit({"code": totp_code(secret, 1)})) == "/account"


def _enrol_by_sms(browser: Browser, email: str, sms, sent_before: int) -> None:
    assert path_of(sign_in(browser, email)) == "/mfa/setup/sms"
    browser.get("/mfa/setup/sms")
    assert path_of(browser.submit({"phone": PHONE})) == "/mfa/setup/sms/verify"
    code = code_in(sms.inbox.wait_for(PHONE_E164, after=sent_before).body)
    assert 'id="recovery-code"' in browser.submit({"code": code}).text


def test_a_factor_set_up_over_a_line_records_the_line(live, sms):
    register_line(live)
    set_mfa(live, True)
    _enrol_by_sms(line_browser(live), DEMO_HOLDER, sms, 0)
    _enrol_by_sms(live.browser(), DEMO_USER, sms, 1)  # from the internet
    (over_line,) = enrolment_rows(live, DEMO_HOLDER)
    (from_internet,) = enrolment_rows(live, DEMO_USER)
    assert (over_line.phone, over_line.line_id) == (PHONE_E164, LINE)
    assert (from_internet.phone, from_internet.line_id) == (PHONE_E164, None)
