"""A line-only tenant's holder may undo line-only from the internet (manual §4.2)
only with a second factor that whoever learnt the password, or holds the
mailbox, could not have made: one confirmed before the tenant became line-only,
one enrolled over a registered line, or the recovery code issued with such a
factor. Without one the sign-in ends on a page naming the two ways back (a
registered line, or the operator), and no path through the enrolment pages or
the account menu reaches a changed route."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import update

from idp import clock, db
from idp.models import MfaEnrolment

from ..conftest import Live
from ..line_steps import LINE, OTHER_LINE, line_only_with, serve, set_mfa, set_route, tenant_state
from ..mfa_steps import (
    align_to_step,
    audit_events,
    enrol_totp,
    finish_enrolment,
    is_enrolled,
    mail_link,
    path_of,
    recovery_code_on,
    secret_on,
    sign_in,
    totp_code,
    user_named,
)
from ..rp import DEMO_HOLDER, DEMO_PASSWORD, DEMO_USER, Browser, text_of
from ..transports import MailServer

REFUSED_JA = "インターネットからはアクセス経路設定を変更できません"
WAYS_BACK_JA = (
    "登録済みの回線からログインし",
    "サービス運営者にアクセス経路設定を「回線認証+インターネット」に戻すよう",
)
NEW_PASSWORD = "Other-pass-2026"


@pytest.fixture
def live(database_url, tmp_path, key_template, mail, sms):
    yield from serve(database_url, tmp_path, key_template, mail, sms)


@pytest.fixture
def locked_out(live: Live) -> Live:
    """A line-only tenant whose only registered number is not the line in use."""
    line_only_with(live, OTHER_LINE)
    return live


def _later() -> None:
    """Move the provider's clock well past the switch (align_to_step moves it back
    by less than a TOTP step), so that what follows happens after it."""
    clock.advance(timedelta(minutes=2))


def _set_factor_line(live: Live, line: str, email: str = DEMO_HOLDER) -> None:
    """Record the factor as enrolled over ``line`` (what enrolment over a line stores)."""
    with live.app.app_context():
        db.session().execute(
            update(MfaEnrolment).where(MfaEnrolment.user_id == user_named(email).id).values(line_id=line)
        )
        db.commit()


def _expect_refused(live: Live, page: requests.Response) -> None:
    assert page.status_code == 403, page.url
    text = text_of(page.text)
    assert REFUSED_JA in text and all(way in text for way in WAYS_BACK_JA)
    assert page.request.path_url.startswith("/login")  # no redirect: no enrolment, no challenge


def _switch_back(browser: Browser) -> None:
    """Access route setting (manual §4.1): choose, the confirmation page, done."""
    assert browser.get("/account/access-route").status_code == 200
    assert 'id="route-confirm"' in browser.submit({"route": "line+internet"}).text
    assert 'id="route-done"' in browser.submit({}).text


def _login_page_for(path: str) -> str:
    """The account menu has its own login screen (manual §2.1 (2))."""
    return "/account/login" if path.startswith("/account") else "/login"


def _no_path_changes_the_route(live: Live, browser: Browser) -> None:
    """Every way into enrolment or the access route setting leads back to the login
    page, and nothing is enrolled or changed."""
    for path in ("/mfa/setup", "/mfa/setup/sms", "/mfa/setup/totp", "/mfa/next", "/account", "/account/access-route"):
        assert path_of(browser.get(path)) == _login_page_for(path), path
    posts = {
        "/mfa/setup/sms": {"phone": "090-1234-5678"},
        "/mfa/setup/totp": {"code": "123456"},
        "/account/access-route": {"route": "line+internet", "stage": "confirm"},
    }
    for path, data in posts.items():
        answer = browser.http.post(live.url + path, data=data, allow_redirects=False, timeout=10)
        assert answer.status_code == 302 and answer.headers["Location"].endswith("/login"), path
    assert not is_enrolled(live, DEMO_HOLDER)
    assert tenant_state(live).access_route == "line-only"


# -- no qualifying factor -------------------------------------------------------------


def test_without_a_factor_the_holder_is_told_the_ways_back(locked_out):
    live = locked_out
    browser = live.browser()
    _expect_refused(live, sign_in(browser, DEMO_HOLDER))
    assert browser.http.cookies.get(live.settings.session_cookie) is None
    (refused,) = audit_events(live, "login.refused")
    assert refused.email == DEMO_HOLDER and refused.detail["reason"] == "no_qualifying_factor"
    assert audit_events(live, "login.holder_recovery") == []
    _no_path_changes_the_route(live, browser)


def test_the_refusal_in_english(locked_out):
    browser = locked_out.browser()
    browser.get("/login?lang=en")
    page = browser.submit({"email": DEMO_HOLDER, "password": DEMO_PASSWORD})
    assert page.status_code == 403
    text = text_of(page.text)
    assert "The access route cannot be changed from the internet" in text
    assert "log in over one of the contract's registered lines" in text
    assert "ask the service operator to switch the access route back" in text


def test_a_factor_enrolled_after_the_switch_does_not_qualify(locked_out):
    """A factor made from the internet while line-only (such as one enrolled in an
    earlier recovery sign-in) opens nothing: not the challenge, not the menu."""
    live = locked_out
    _later()
    align_to_step()
    secret, recovery = enrol_totp(live, DEMO_HOLDER)
    browser = live.browser()
    _expect_refused(live, sign_in(browser, DEMO_HOLDER))
    for path in ("/mfa/challenge", "/mfa/recovery", "/account/access-route"):
        assert path_of(browser.get(path)) == _login_page_for(path), path
    assert tenant_state(live).access_route == "line-only"
    assert audit_events(live, "mfa.success", "mfa.recovery_code_used") == []


def test_a_password_reset_through_the_mailbox_opens_nothing(locked_out, mail: MailServer):
    """The holder had a factor from before the switch; whoever holds the mailbox
    resets the password, which clears the factor, and then has the password only."""
    live = locked_out
    enrol_totp(live, DEMO_HOLDER)
    _later()
    browser = live.browser()
    before = mail.inbox.count(DEMO_HOLDER)
    browser.get("/password/forgot")
    browser.submit({"email": DEMO_HOLDER})
    browser.get(mail_link(live, mail, to=DEMO_HOLDER, after=before))
    assert 'id="reset-done"' in browser.submit({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}).text
    assert not is_enrolled(live, DEMO_HOLDER)

    _expect_refused(live, sign_in(browser, DEMO_HOLDER, NEW_PASSWORD))
    _no_path_changes_the_route(live, browser)


def test_a_sign_in_pending_from_before_the_switch_cannot_enrol_its_way_in(live):
    """A sign-in half way through enrolment when the tenant becomes line-only: the
    enrolment completes, but the factor is younger than the switch, so neither
    the menu nor the access route setting admit the session."""
    set_mfa(live, True)
    align_to_step()
    browser = live.browser()
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/mfa/setup/sms"
    line_only_with(live, OTHER_LINE)
    secret = secret_on(browser.get("/mfa/setup/totp").text)
    assert 'id="recovery-code"' in browser.submit({"code": totp_code(secret)}).text
    assert path_of(finish_enrolment(browser)) == "/account/login"

    for path in ("/account", "/account/access-route", "/account/mfa"):
        assert path_of(browser.get(path)) == "/account/login", path
    data = {"route": "line+internet", "stage": "confirm"}
    answer = browser.http.post(live.url + "/account/access-route", data=data, allow_redirects=False, timeout=10)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/login")
    assert tenant_state(live).access_route == "line-only"
    _expect_refused(live, sign_in(browser, DEMO_HOLDER))


# -- qualifying factors ----------------------------------------------------------------


def test_a_factor_from_before_the_switch_switches_back(live):
    align_to_step()
    secret, _recovery = enrol_totp(live, DEMO_HOLDER)
    line_only_with(live, OTHER_LINE)
    browser = live.browser()
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/mfa/challenge"
    assert path_of(browser.submit({"code": totp_code(secret)})) == "/account"
    _switch_back(browser)
    assert tenant_state(live).access_route == "line+internet"
    (recovery,) = audit_events(live, "login.holder_recovery")
    assert recovery.email == DEMO_HOLDER


def test_the_recovery_code_of_such_a_factor_switches_back(live):
    _secret, recovery = enrol_totp(live, DEMO_HOLDER)
    line_only_with(live, OTHER_LINE)
    browser = live.browser()
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/mfa/challenge"
    browser.get("/mfa/recovery")
    page = browser.submit({"recovery_code": recovery})
    assert recovery_code_on(page.text) != recovery
    assert path_of(finish_enrolment(browser)) == "/account"
    _switch_back(browser)
    assert tenant_state(live).access_route == "line+internet"


def test_a_factor_enrolled_over_a_line_qualifies(locked_out):
    live = locked_out
    _later()
    align_to_step()
    secret, _recovery = enrol_totp(live, DEMO_HOLDER)
    _set_factor_line(live, LINE)
    browser = live.browser()
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/mfa/challenge"
    assert path_of(browser.submit({"code": totp_code(secret)})) == "/account"
    _switch_back(browser)
    assert tenant_state(live).access_route == "line+internet"


def test_line_only_again_dates_factors_afresh(live):
    """Each switch to line-only is a new date: a factor enrolled from the internet
    while the tenant admitted it qualifies for the next lock-out, not the one
    before it."""
    line_only_with(live, OTHER_LINE)
    set_route(live, "line+internet")
    _later()
    enrol_totp(live, DEMO_HOLDER)
    _later()
    set_route(live, "line-only")
    assert path_of(sign_in(live.browser(), DEMO_HOLDER)) == "/mfa/challenge"


def test_a_user_is_never_offered_the_holder_recovery(locked_out):
    enrol_totp(locked_out, DEMO_USER)
    page = sign_in(locked_out.browser(), DEMO_USER)
    assert page.status_code == 403 and REFUSED_JA not in text_of(page.text)
