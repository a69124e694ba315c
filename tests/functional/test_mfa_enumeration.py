"""The sign-in and forgot-password pages never tell whether an email has an account:
an unknown email gets the same status and the same page as a known one."""

from __future__ import annotations

import requests

from ..mfa_steps import same_page, sign_in
from ..rp import DEMO_PASSWORD, DEMO_USER

UNKNOWN = "nobody@demo.example"


def _attempt(live, email: str, password: str) -> requests.Response:
    return sign_in(live.browser(), email, password)


def _assert_same(known: requests.Response, unknown: requests.Response) -> None:
    assert known.status_code == unknown.status_code
    assert same_page(known.text, DEMO_USER) == same_page(unknown.text, UNKNOWN)


def test_wrong_password_page_is_the_same(live):
    known = _attempt(live, DEMO_USER, "Wrong-pass-1")
    unknown = _attempt(live, UNKNOWN, "Wrong-pass-1")
    assert known.status_code == 401
    assert 'id="login-error"' in known.text
    _assert_same(known, unknown)


def test_tenth_failure_and_after_are_the_same(live, mail):
    for attempt in range(1, 11):
        known = _attempt(live, DEMO_USER, f"Wrong-pass-{attempt}")
        unknown = _attempt(live, UNKNOWN, f"Wrong-pass-{attempt}")
        _assert_same(known, unknown)
        locked = "ブロック解除の為のメールをお送りしました" in known.text
        assert locked is (attempt == 10)
    # Locked: even the right password gets the lock page, for both.
    _assert_same(_attempt(live, DEMO_USER, DEMO_PASSWORD), _attempt(live, UNKNOWN, DEMO_PASSWORD))
    assert mail.inbox.wait_for(DEMO_USER).subject == "【ワークストレージ】アカウントロック"
    assert mail.inbox.count(UNKNOWN) == 0


def _forgot(live, email: str) -> requests.Response:
    browser = live.browser()
    browser.get("/password/forgot")
    return browser.submit({"email": email})


def test_forgot_password_page_is_the_same(live, mail):
    known, unknown = _forgot(live, DEMO_USER), _forgot(live, UNKNOWN)
    assert known.status_code == 200
    assert 'id="forgot-sent"' in known.text
    _assert_same(known, unknown)
    assert mail.inbox.wait_for(DEMO_USER).subject == "【ワークストレージ】パスワードリセット"
    assert mail.inbox.count(UNKNOWN) == 0
