"""What the password sign-in answers must not tell. A locked account answers a wrong
password like an unknown email (only its right password hears that it is
locked); a line-only tenant's staff off its registered lines get the line error
whatever the password, so the answer is no test of a guessed password."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import requests

from ..conftest import Live
from ..journeys import set_tenant_mfa
from ..line_steps import LINE_ERROR_JA, line_browser, line_only_with, rp_sign_in, serve
from ..mfa_steps import (
    audit_events,
    enrol_totp,
    lock_account,
    path_of,
    same_page,
    sign_in,
    user_status,
)
from ..rp import DEMO_HOLDER, DEMO_PASSWORD, DEMO_USER, text_of

UNKNOWN = "nobody@demo.example"
INCORRECT = "メールアドレスまたはパスワードが正しくありません。"
LOCKED = "ブロック解除の為のメールをお送りしました"


@pytest.fixture
def live(database_url, tmp_path, key_template, mail, sms):
    """Line authentication on: the test client's address is the gateway."""
    yield from serve(database_url, tmp_path, key_template, mail, sms)


def _lock_directly(live: Live) -> None:
    lock_account(live)


def _lock_by_second_steps(live: Live) -> None:
    set_tenant_mfa(live, True)
    enrol_totp(live)
    browser = live.browser()
    assert path_of(sign_in(browser)) == "/mfa/challenge"
    for _ in range(10):
        answer = browser.submit({"code": "000000"})
    assert answer.status_code == 401 and LOCKED in answer.text


@pytest.mark.parametrize("lock", [_lock_directly, _lock_by_second_steps], ids=["directly", "by-second-steps"])
def test_a_locked_account_answers_a_wrong_password_like_an_unknown_email(live, lock: Callable[[Live], None]):
    lock(live)
    assert user_status(live) == "locked"
    known = sign_in(live.browser(), DEMO_USER, "Wrong-pass-1")
    unknown = sign_in(live.browser(), UNKNOWN, "Wrong-pass-1")
    assert known.status_code == unknown.status_code == 401
    assert same_page(known.text, DEMO_USER) == same_page(unknown.text, UNKNOWN)
    assert INCORRECT in text_of(known.text) and LOCKED not in known.text
    # The wrong password counted, like any other.
    failure = audit_events(live, "login.failure")[-2]
    assert (failure.email, failure.detail["reason"], failure.detail["consecutive"]) == (DEMO_USER, "bad_credentials", 1)

    right = sign_in(live.browser(), DEMO_USER, DEMO_PASSWORD)
    assert right.status_code == 401 and LOCKED in right.text


def _visible(answer: requests.Response) -> tuple[int, str]:
    return answer.status_code, text_of(same_page(answer.text))


def test_line_only_staff_from_the_internet_get_one_answer_whatever_the_password(live):
    line_only_with(live)
    right = sign_in(live.browser(), DEMO_USER, DEMO_PASSWORD)
    wrong = sign_in(live.browser(), DEMO_USER, "Wrong-pass-1")
    assert right.status_code == 403 and LINE_ERROR_JA in right.text
    assert _visible(right) == _visible(wrong)
    assert same_page(right.text) == same_page(wrong.text)
    refused = audit_events(live, "login.refused")
    assert [(e.email, e.detail["reason"]) for e in refused] == [(DEMO_USER, "line_required")] * 2

    # Guesses from the internet count for nothing: ten of them lock nothing, and
    # over the registered line the right password still signs in.
    for attempt in range(10):
        assert sign_in(live.browser(), DEMO_USER, f"Wrong-pass-{attempt}").status_code == 403
    assert not audit_events(live, "login.failure") and user_status(live) == "active"
    signed_in = rp_sign_in(live, line_browser(live), DEMO_USER, DEMO_PASSWORD)
    assert signed_in.claims["amr"] == ["pwd", "line"]


def test_the_holder_of_a_line_only_tenant_is_asked_for_the_password_first(live):
    """The holder may come in from the internet to switch the route back, so the
    password decides first: a wrong one is just a wrong password."""
    line_only_with(live)
    wrong = sign_in(live.browser(), DEMO_HOLDER, "Wrong-pass-1")
    assert wrong.status_code == 401 and INCORRECT in text_of(wrong.text)
