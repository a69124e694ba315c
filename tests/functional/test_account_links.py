"""The links mailed for unlocking and for a password reset (manual §6): one per mail,
valid 14 days, used once, dead once the password changes; the reset page names
each broken rule; a reset unlocks the account and clears two-step verification."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp import clock

from ..journeys import set_tenant_mfa
from ..mfa_steps import (
    align_to_step,
    enrol_totp,
    fail_sign_ins,
    finish_enrolment,
    is_enrolled,
    lock_account,
    log_out,
    mail_link,
    path_of,
    post_form,
    secret_on,
    sign_in,
    totp_code,
    user_status,
)
from ..rp import DEMO_PASSWORD, DEMO_USER, Browser

NEW_PASSWORD = "Fresh-pass-2027"
INVALID = 'id="link-invalid"'


def _locked_with_link(live, mail) -> str:
    fail_sign_ins(live, 10)
    assert user_status(live) == "locked"
    return mail_link(live, mail)


def _forgot(live, mail, after: int = 0) -> str:
    browser = live.browser()
    browser.get("/password/forgot")
    browser.submit({"email": DEMO_USER})
    return mail_link(live, mail, after=after)


@pytest.mark.parametrize(("age", "valid"), [(timedelta(days=14, minutes=-1), True), (timedelta(days=14), False)])
def test_unlock_link_lasts_14_days(live, mail, age, valid):
    link = _locked_with_link(live, mail)
    clock.advance(age)
    browser = live.browser()
    page = browser.get(link)
    if valid:
        assert page.status_code == 200
        assert 'id="unlocked"' in browser.submit({}).text
        assert user_status(live) == "active"
    else:
        assert page.status_code == 400 and INVALID in page.text
        assert user_status(live) == "locked"


def test_unlock_link_is_used_once_and_only_by_the_button(live, mail):
    link = _locked_with_link(live, mail)
    browser = live.browser()
    browser.get(link)
    browser.get(link)  # a mail scanner fetching the link uses nothing up
    assert user_status(live) == "locked"
    twin = Browser(live.url)
    twin.get(link)
    assert 'id="unlocked"' in browser.submit({}).text
    again = twin.submit({})
    assert again.status_code == 400 and INVALID in again.text
    assert browser.get(link).status_code == 400
    assert path_of(sign_in(live.browser())) == "/account"


@pytest.mark.parametrize(
    ("age", "valid"), [(timedelta(days=13, hours=23), True), (timedelta(days=14, seconds=1), False)]
)
def test_reset_link_lasts_14_days(live, mail, age, valid):
    link = _forgot(live, mail)
    clock.advance(age)
    page = live.browser().get(link)
    assert (page.status_code, INVALID in page.text) == ((200, False) if valid else (400, True))


def _reset(live, link: str, password: str = NEW_PASSWORD, confirm: str | None = None) -> Browser:
    browser = live.browser()
    browser.get(link)
    browser.submit({"password": password, "password_confirm": password if confirm is None else confirm})
    return browser


def test_reset_link_is_used_once(live, mail):
    link = _forgot(live, mail)
    assert 'id="reset-done"' in _reset(live, link).last.text
    page = live.browser().get(link)
    assert page.status_code == 400 and INVALID in page.text
    assert path_of(sign_in(live.browser(), password=NEW_PASSWORD)) == "/account"


def test_a_new_password_kills_every_other_link(live, mail):
    unlock = _locked_with_link(live, mail)
    first, second = _forgot(live, mail, after=1), _forgot(live, mail, after=2)
    assert 'id="reset-done"' in _reset(live, second).last.text
    for link in (first, unlock):
        assert live.browser().get(link).status_code == 400


RULE_CASES = [
    ("abc", "abc", ["8文字以上", "3種類以上"]),
    ("Kx7-mQ2v", "Kx7-mQ2w", ["確認用パスワードが一致しません"]),
    ("User@demo.example", "User@demo.example", ["メールアドレスと同じパスワード"]),
    ("Password1", "Password1", ["よく使われているパスワード"]),
    ("Kx7-mQ2v" * 17, "Kx7-mQ2v" * 17, ["128文字以内"]),
    ("", "", ["8文字以上", "3種類以上"]),
    ("Kx7-mQ2v", "", ["確認用パスワードが一致しません"]),
]


def test_reset_page_names_each_broken_rule(live, mail):
    link = _forgot(live, mail)
    browser = live.browser()
    for password, confirm, messages in RULE_CASES:
        browser.get(link)
        page = browser.submit({"password": password, "password_confirm": confirm})
        assert path_of(page) == "/password/reset"
        assert page.text.count('class="error"') == len(messages), (password, confirm)
        for message in messages:
            assert message in page.text
    assert 'id="reset-done"' in _reset(live, link).last.text  # refusals did not use the link up


def test_reset_unlocks_and_clears_two_step(live, mail):
    set_tenant_mfa(live, True)
    enrol_totp(live)
    lock_account(live)
    _reset(live, _forgot(live, mail))
    assert user_status(live) == "active" and not is_enrolled(live)
    assert sign_in(live.browser(), password=DEMO_PASSWORD).status_code == 401
    assert path_of(sign_in(live.browser(), password=NEW_PASSWORD)) == "/mfa/setup/sms"


def test_reset_ends_the_remembered_browser(live, mail):
    set_tenant_mfa(live, True)
    browser = live.browser()
    sign_in(browser)
    browser.get("/mfa/setup/totp")
    align_to_step()
    secret = secret_on(browser.last.text)
    browser.submit({"code": totp_code(secret), "remember": "y"})
    finish_enrolment(browser)
    log_out(browser)
    assert path_of(sign_in(browser)) == "/account"  # remembered: no second step
    _reset(live, _forgot(live, mail))
    assert path_of(sign_in(browser, password=NEW_PASSWORD)) == "/mfa/setup/sms"


def test_the_form_needs_its_csrf_token(live, mail):
    link = _forgot(live, mail)
    browser = live.browser()
    browser.get(link)
    answer = post_form(browser, {"csrf_token": "forged", "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert answer.status_code == 400
    assert 'id="reset-done"' in _reset(live, link).last.text
