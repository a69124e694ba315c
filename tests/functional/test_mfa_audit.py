"""Audit events for what matters in signing in: successes and failures, the lock and
its release, password resets, enrolment, recovery-code use and policy changes."""

from __future__ import annotations

from ..journeys import set_tenant_mfa
from ..mfa_steps import (
    align_to_step,
    audit_events,
    enrol_totp,
    fail_sign_ins,
    finish_enrolment,
    lock_account,
    mail_link,
    recovery_code_on,
    secret_on,
    sign_in,
    totp_code,
)
from ..rp import DEMO_HOLDER, DEMO_PASSWORD, DEMO_USER

NEW_PASSWORD = "Fresh-pass-2027"


def test_sign_in_success_and_failure(live):
    sign_in(live.browser(), DEMO_USER, "Wrong-pass-1")
    sign_in(live.browser(), DEMO_USER, DEMO_PASSWORD)
    sign_in(live.browser(), "nobody@demo.example", "Wrong-pass-1")
    failure, success, unknown = audit_events(live, "login.success", "login.failure")
    assert (failure.event, failure.email, failure.detail["reason"]) == ("login.failure", DEMO_USER, "bad_credentials")
    assert failure.source_ip == "127.0.0.1" and failure.detail["method"] == "pwd"
    assert (success.event, success.email) == ("login.success", DEMO_USER)
    assert (unknown.event, unknown.email) == ("login.failure", None)


def test_lock_and_unlock_by_link(live, mail):
    fail_sign_ins(live, 10)
    assert [e.email for e in audit_events(live, "account.locked")] == [DEMO_USER]
    browser = live.browser()
    browser.get(mail_link(live, mail))
    browser.submit({})
    (unlocked,) = audit_events(live, "account.unlocked")
    assert (unlocked.email, unlocked.detail["via"]) == (DEMO_USER, "unlock_link")


def _reset_password(live, mail) -> None:
    browser = live.browser()
    browser.get("/password/forgot")
    browser.submit({"email": DEMO_USER})
    browser.get(mail_link(live, mail))
    page = browser.submit({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert 'id="reset-done"' in page.text


def test_password_reset_unlocks(live, mail):
    lock_account(live)
    _reset_password(live, mail)
    assert [e.email for e in audit_events(live, "password.reset_requested")] == [DEMO_USER]
    assert [e.email for e in audit_events(live, "password.reset")] == [DEMO_USER]
    assert [e.detail["via"] for e in audit_events(live, "account.unlocked")] == ["password_reset"]


def test_password_reset_of_an_unlocked_account_records_no_unlock(live, mail):
    _reset_password(live, mail)
    assert audit_events(live, "password.reset") and not audit_events(live, "account.unlocked")


def test_enrolment_and_recovery_code_use(live):
    set_tenant_mfa(live, True)
    align_to_step()
    browser = live.browser()
    sign_in(browser)
    secret = secret_on(browser.get("/mfa/setup/totp").text)
    recovery = recovery_code_on(browser.submit({"code": totp_code(secret)}).text)
    finish_enrolment(browser)
    (enrolled,) = audit_events(live, "mfa.enrolled")
    assert (enrolled.email, enrolled.detail["method"]) == (DEMO_USER, "totp")

    browser = live.browser()
    sign_in(browser)
    browser.get("/mfa/recovery")
    browser.submit({"recovery_code": recovery})
    finish_enrolment(browser)
    assert [e.email for e in audit_events(live, "mfa.recovery_code_used")] == [DEMO_USER]
    assert audit_events(live, "mfa.failure") == []


def test_wrong_recovery_code_is_recorded(live):
    set_tenant_mfa(live, True)
    enrol_totp(live)
    browser = live.browser()
    sign_in(browser)
    browser.get("/mfa/recovery")
    browser.submit({"recovery_code": "AAAAA-BBBBB-CCCCC-DDDDD"})
    (failure,) = audit_events(live, "mfa.failure")
    assert (failure.email, failure.detail["method"]) == (DEMO_USER, "recovery_code")


def test_policy_change_by_the_holder(live):
    browser = live.browser()
    sign_in(browser, DEMO_HOLDER)
    browser.get("/account/mfa")
    browser.submit({"mfa": "on"})
    browser.submit({"confirmed": "y"})
    (changed,) = audit_events(live, "tenant.mfa_changed")
    assert (changed.email, changed.detail["enabled"]) == (DEMO_HOLDER, True)
