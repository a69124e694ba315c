"""A sign-in over a registered line (manual §1.4): the line replaces the second step,
and the tokens say so (``amr`` with ``line``, the ``line_id`` claim) in the ID
token and in userinfo. The one exception (the rule of Keycloak #21837): while
the tenant also admits the internet with two-step verification on, a user
without a second factor enrols one, once, over the line."""

from __future__ import annotations

import pytest

from ..line_steps import (
    COP_LINE,
    LINE,
    line_browser,
    line_only_with,
    register_line,
    rp_sign_in,
    serve,
    set_mfa,
    tokens_for,
    userinfo,
)
from ..mfa_steps import align_to_step, enrol_totp, finish_enrolment, path_of, secret_on, totp_code
from ..rp import DEMO_HOLDER, DEMO_PASSWORD, DEMO_USER


@pytest.fixture
def live(database_url, tmp_path, key_template, mail, sms):
    yield from serve(database_url, tmp_path, key_template, mail, sms)


@pytest.mark.parametrize("number", [LINE, COP_LINE])
def test_the_line_is_in_the_id_token_and_userinfo(live, number):
    register_line(live, number)
    signed_in = rp_sign_in(live, line_browser(live, number), DEMO_USER, DEMO_PASSWORD)
    assert signed_in.claims["amr"] == ["pwd", "line"]
    assert signed_in.claims["line_id"] == number

    info = userinfo(live, signed_in.tokens["access_token"])
    assert info.status_code == 200, info.text
    assert info.json()["line_id"] == number and info.json()["amr"] == ["pwd", "line"]

    renewed = signed_in.rp.refresh(signed_in.tokens["refresh_token"])
    claims = signed_in.rp.verify_id_token(renewed["id_token"], renewed["access_token"], nonce=None)
    assert claims["line_id"] == number and claims["amr"] == ["pwd", "line"]


def test_without_a_line_there_is_no_line_claim(live):
    register_line(live)
    signed_in = rp_sign_in(live, live.browser(), DEMO_USER, DEMO_PASSWORD)
    assert signed_in.claims["amr"] == ["pwd"] and "line_id" not in signed_in.claims
    assert "line_id" not in userinfo(live, signed_in.tokens["access_token"]).json()


def test_the_line_replaces_the_second_step(live):
    """The tenant has two-step on and the user has a factor: over the line it is
    not asked; from the internet it is."""
    register_line(live)
    set_mfa(live, True)
    enrol_totp(live)
    signed_in = rp_sign_in(live, line_browser(live), DEMO_USER, DEMO_PASSWORD)
    assert signed_in.claims["amr"] == ["pwd", "line"]

    rp = live.rp()
    assert path_of(live.browser().login(rp.authorization_url())) == "/mfa/challenge"


def test_a_user_without_a_factor_enrols_once_over_the_line(live):
    register_line(live)
    set_mfa(live, True)
    align_to_step()
    browser, rp = line_browser(live), live.rp()
    assert path_of(browser.login(rp.authorization_url())) == "/mfa/setup/sms"
    secret = secret_on(browser.get("/mfa/setup/totp").text)
    assert "recovery-code" in browser.submit({"code": totp_code(secret)}).text
    signed_in = tokens_for(rp, finish_enrolment(browser))
    assert signed_in.claims["amr"] == ["pwd", "line", "otp", "mfa"]
    assert signed_in.claims["line_id"] == LINE

    # Enrolled now: over the line the second step is not asked again.
    again = rp_sign_in(live, line_browser(live), DEMO_USER, DEMO_PASSWORD)
    assert again.claims["amr"] == ["pwd", "line"]


def test_a_line_only_tenant_asks_no_second_step(live):
    """Line-only turns two-step verification off (manual §5.1), even for a user
    who enrolled a factor earlier."""
    set_mfa(live, True)
    enrol_totp(live)
    line_only_with(live)
    for email in (DEMO_USER, DEMO_HOLDER):
        signed_in = rp_sign_in(live, line_browser(live), email, DEMO_PASSWORD)
        assert signed_in.claims["amr"] == ["pwd", "line"] and signed_in.claims["line_id"] == LINE


def test_a_line_sign_in_without_a_relying_party_opens_the_account_menu(live):
    line_only_with(live)
    browser = line_browser(live)
    browser.get("/login")
    page = browser.submit({"email": DEMO_USER, "password": DEMO_PASSWORD})
    assert path_of(page) == "/account" and page.status_code == 200
