"""Beyond the manual: failures from one source address across many accounts slow
that source down, without locking any account."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp import clock
from idp.auth import throttle

from ..conftest import start_live
from ..mfa_steps import path_of, sign_in, user_status
from ..rp import DEMO_HOLDER, DEMO_USER


@pytest.fixture
def live(database_url, tmp_path, key_template, mail, sms):
    """A provider whose per-source limit (security.source_failure_limit) is 6."""
    yield from start_live(
        database_url,
        tmp_path,
        key_template,
        IDP_SMTP_URL=mail.url,
        IDP_SMS_WEBHOOK_URL=sms.url,
        IDP_SECURITY_SOURCE_FAILURE_LIMIT="6",
    )


def test_a_spraying_source_waits_and_no_account_is_locked(live):
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
