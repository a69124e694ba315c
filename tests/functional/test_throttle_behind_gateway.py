"""The per-source throttle and the audit log behind the line gateway: both name the
client the gateway forwarded for (X-Forwarded-For), not the gateway, so one
client's failures do not shut out everyone behind it. Requests over a
registered line and from the company's own networks (security.trusted_networks)
are exempt; the limit is security.source_failure_limit (50 by default)."""

from __future__ import annotations

import pytest

from ..conftest import Live
from ..line_steps import LINE, TRUSTED_PROXIES, over_line, register_line, rp_sign_in, serve
from ..mfa_steps import audit_events, path_of, sign_in
from ..rp import DEMO_PASSWORD, DEMO_USER, Browser, text_of

GATEWAY = TRUSTED_PROXIES.split("/")[0]
CLIENT_A = "192.0.2.10"
CLIENT_B = "192.0.2.20"
OFFICE = "198.51.100.0/24"
IN_OFFICE = "198.51.100.7"
LOWER_LIMIT = 3


@pytest.fixture
def live(database_url, tmp_path, key_template, mail, sms):
    yield from serve(database_url, tmp_path, key_template, mail, sms)


@pytest.fixture
def limited(database_url, tmp_path, key_template, mail, sms):
    """The same provider with a lower per-source limit and the office's network trusted."""
    yield from serve(
        database_url,
        tmp_path,
        key_template,
        mail,
        sms,
        IDP_SECURITY_SOURCE_FAILURE_LIMIT=str(LOWER_LIMIT),
        IDP_SECURITY_TRUSTED_NETWORKS=OFFICE,
    )


def behind_gateway(live: Live, client: str) -> Browser:
    """A browser whose requests reach the provider through the gateway, which
    forwards for ``client``."""
    browser = live.browser()
    browser.http.headers["X-Forwarded-For"] = client
    return browser


def spray(browser: Browser, times: int) -> None:
    """``times`` wrong passwords, each on another email, so that no account lock trips."""
    for attempt in range(times):
        answer = sign_in(browser, f"nobody{attempt}@demo.example", "Spring-2026!")
        assert answer.status_code == 401, attempt


def assert_throttled(browser: Browser) -> None:
    """Even the right password waits, and the page says what to do."""
    refused = sign_in(browser)
    assert refused.status_code == 429 and path_of(refused) == "/login"
    text = text_of(refused.text)
    assert "ネットワーク" in text and "15分" in text and "管理者" in text
    assert 'href="/password/forgot"' in refused.text.split('id="throttle-help"')[1]


def test_one_client_behind_the_gateway_does_not_block_the_others(live):
    a = behind_gateway(live, CLIENT_A)
    spray(a, 50)
    assert path_of(sign_in(behind_gateway(live, CLIENT_B))) == "/account"
    assert_throttled(a)

    failures = audit_events(live, "login.failure")
    assert len(failures) == 50
    assert {(e.source_ip, e.detail["gateway"]) for e in failures} == {(CLIENT_A, GATEWAY)}
    assert all("line_id" not in e.detail for e in failures)
    (throttled,) = audit_events(live, "login.throttled")
    assert (throttled.source_ip, throttled.detail["gateway"]) == (CLIENT_A, GATEWAY)
    (success,) = audit_events(live, "login.success")
    assert (success.email, success.source_ip, success.detail["gateway"]) == (DEMO_USER, CLIENT_B, GATEWAY)


def test_a_lower_limit_set_by_setting_applies(limited):
    a = behind_gateway(limited, CLIENT_A)
    spray(a, LOWER_LIMIT)
    assert_throttled(a)


def test_in_english_the_page_says_what_to_do(limited):
    a = behind_gateway(limited, CLIENT_A)
    spray(a, LOWER_LIMIT)
    a.get("/login?lang=en")
    refused = a.submit({"email": DEMO_USER, "password": DEMO_PASSWORD})
    assert refused.status_code == 429
    text = text_of(refused.text)
    assert "Please wait 15 minutes and try again." in text
    assert "If you have forgotten your password, reset it" in text
    assert "If this goes on, please ask your administrator." in text


def test_a_registered_line_is_exempt_and_named_in_the_audit_log(limited):
    register_line(limited)
    a = over_line(limited, behind_gateway(limited, CLIENT_A))
    spray(a, LOWER_LIMIT + 2)
    signed_in = rp_sign_in(limited, a, DEMO_USER, DEMO_PASSWORD)
    assert signed_in.claims["amr"] == ["pwd", "line"]

    events = audit_events(limited, "login.failure", "login.success")
    assert [e.event for e in events] == ["login.failure"] * (LOWER_LIMIT + 2) + ["login.success"]
    assert {(e.source_ip, e.detail["gateway"], e.detail["line_id"]) for e in events} == {(CLIENT_A, GATEWAY, LINE)}
    assert not audit_events(limited, "login.throttled")


def test_a_trusted_network_is_exempt(limited):
    office = behind_gateway(limited, IN_OFFICE)
    spray(office, LOWER_LIMIT + 2)
    assert path_of(sign_in(office)) == "/account"
    # The client outside it, behind the same gateway, is still counted.
    a = behind_gateway(limited, CLIENT_A)
    spray(a, LOWER_LIMIT)
    assert_throttled(a)
