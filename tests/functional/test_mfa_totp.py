"""Authenticator codes (RFC 6238): one step of clock skew either way, not two; a code,
or any code of an earlier step, is good once."""

from __future__ import annotations

import pytest

from ..journeys import set_tenant_mfa
from ..mfa_steps import align_to_step, enrol_totp, path_of, post_form, sign_in, totp_code
from ..rp import DEMO_USER

WRONG = "認証コードが正しくありません"


@pytest.fixture
def challenged(live):
    """(secret, browser on the authenticator challenge), the clock at a step's start."""
    set_tenant_mfa(live, True)
    secret, _recovery = enrol_totp(live)
    align_to_step()
    browser = live.browser()
    assert path_of(sign_in(browser)) == "/mfa/challenge"
    return secret, browser


@pytest.mark.parametrize(("steps", "accepted"), [(-2, False), (-1, True), (0, True), (1, True), (2, False)])
def test_skew(challenged, steps, accepted):
    secret, browser = challenged
    answer = post_form(browser, {"code": totp_code(secret, steps)})
    assert answer.is_redirect is accepted
    if not accepted:
        assert WRONG in answer.text


def test_a_code_is_good_once_and_earlier_steps_die_with_it(live, challenged):
    secret, browser = challenged
    assert post_form(browser, {"code": totp_code(secret, 1)}).is_redirect
    for steps in (1, 0, -1):
        again = live.browser()
        sign_in(again)
        answer = post_form(again, {"code": totp_code(secret, steps)})
        assert answer.status_code == 200 and WRONG in answer.text


def test_ten_wrong_second_steps_lock_the_account_like_ten_wrong_passwords(live, mail, challenged):
    """Whoever holds the password cannot guess authenticator codes forever."""
    _secret, browser = challenged
    for _ in range(9):
        answer = browser.submit({"code": "000000"})
        assert answer.status_code == 200 and WRONG in answer.text
    answer = browser.submit({"code": "000000"})
    assert answer.status_code == 401 and "ブロック" in answer.text
    assert "/unlock?ticket=" in mail.inbox.wait_for(DEMO_USER).body
    assert path_of(sign_in(live.browser())) == "/login"
