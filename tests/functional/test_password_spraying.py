"""Beyond the manual: failures from one source address across many accounts slow
that source down, without locking any account."""

from __future__ import annotations

from datetime import timedelta

from idp import clock
from idp.auth import throttle

from ..mfa_steps import path_of, sign_in, user_status
from ..rp import DEMO_HOLDER, DEMO_USER


def test_a_spraying_source_waits_and_no_account_is_locked(live, monkeypatch):
    monkeypatch.setattr(throttle, "SOURCE_LIMIT", 6)
    browser = live.browser()
    for email in [DEMO_USER, DEMO_HOLDER, "nobody@demo.example"] * 2:
        answer = sign_in(browser, email=email, password="Spring-2026!")
        assert answer.status_code == 401

    refused = sign_in(browser)  # the right password, from the same source
    assert refused.status_code == 429 and path_of(refused) == "/login"
    assert "ネットワーク" in refused.text
    assert user_status(live, DEMO_USER) == "active" and user_status(live, DEMO_HOLDER) == "active"

    clock.advance(throttle.SOURCE_WINDOW + timedelta(seconds=1))
    assert path_of(sign_in(live.browser())) == "/account"
