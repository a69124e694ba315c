"""The holder's way out of a line-only lock-out (manual §4.1, §4.2): with a wrong
line number registered nobody comes in over a line, so the contract holder signs
in to the account menu from the internet — always with a second factor from
before the switch (never one enrolled now), although line-only switched two-step
verification off — and switches the route back to "line authentication +
internet". That sign-in is for the account menu only; anyone else gets the line
error. (tests/functional/test_line_only_bypass.py: which factors qualify.)"""

from __future__ import annotations

import pytest

from ..conftest import Live
from ..line_steps import (
    LINE,
    LINE_ERROR_JA,
    OTHER_LINE,
    line_browser,
    line_only_with,
    rp_sign_in,
    serve,
    set_mfa,
    tenant_state,
)
from ..mfa_steps import (
    DEMO_ADMIN,
    add_admin,
    align_to_step,
    audit_events,
    enrol_totp,
    log_out,
    path_of,
    sign_in,
    totp_code,
)
from ..rp import DEMO_HOLDER, DEMO_PASSWORD, DEMO_USER, Browser, callback_params, text_of

ADMIN = DEMO_ADMIN


@pytest.fixture
def live(database_url, tmp_path, key_template, mail, sms):
    yield from serve(database_url, tmp_path, key_template, mail, sms)


@pytest.fixture
def locked_out(live: Live) -> Live:
    """A line-only tenant whose only registered number is not the line in use."""
    line_only_with(live, OTHER_LINE)
    return live


@pytest.fixture
def holder_factor(live: Live) -> str:
    """The holder's authenticator, enrolled while the tenant still admitted the
    internet (before the switch to line-only); its secret."""
    align_to_step()
    secret, _recovery = enrol_totp(live, DEMO_HOLDER)
    return secret


def _recover(browser: Browser, secret: str) -> None:
    """The holder's recovery sign-in: the password, then the authenticator's code."""
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/mfa/challenge"
    assert path_of(browser.submit({"code": totp_code(secret)})) == "/account"


def _switch_back(browser: Browser) -> None:
    """Access route setting (manual §4.1): choose, the confirmation page, done."""
    assert 'id="menu-access_route"' in browser.get("/account").text
    assert browser.get("/account/access-route").status_code == 200
    confirm = browser.submit({"route": "line+internet"})
    assert 'id="route-confirm"' in confirm.text
    assert "回線認証+インターネット" in text_of(confirm.text.split('id="new-route"')[1])
    assert 'id="route-done"' in browser.submit({}).text


def test_the_holder_gives_the_factor_and_switches_back(holder_factor, live):
    line_only_with(live, OTHER_LINE)
    browser = live.browser()
    _recover(browser, holder_factor)
    assert 'id="menu-admin-lines"' not in browser.get("/account").text  # the console needs the route back first
    _switch_back(browser)

    assert tenant_state(live).access_route == "line+internet"
    (recovery,) = audit_events(live, "login.holder_recovery")
    assert recovery.email == DEMO_HOLDER
    _setup, changed = audit_events(live, "tenant.access_route_changed")
    assert changed.email == DEMO_HOLDER and changed.detail == {"route": "line+internet", "via": "account_menu"}
    assert audit_events(live, "mfa.enrolled") == []  # nothing enrolled from the internet

    # From the internet again: a user signs in, without a second step (off before line-only, off again).
    assert rp_sign_in(live, live.browser(), DEMO_USER, DEMO_PASSWORD).claims["amr"] == ["pwd"]
    # And the holder, now signed in normally, fixes the number in the admin console.
    assert browser.get("/admin/lines").status_code == 200


def test_a_remembered_browser_does_not_spare_the_factor(live):
    """The holder's browser was remembered while two-step was on; the recovery
    sign-in asks for the factor all the same."""
    set_mfa(live, True)
    align_to_step()
    secret, _recovery = enrol_totp(live, DEMO_HOLDER)
    browser = live.browser()
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/mfa/challenge"
    assert path_of(browser.submit({"code": totp_code(secret), "remember": "y"})) == "/account"
    log_out(browser)
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/account"  # remembered
    log_out(browser)

    line_only_with(live, OTHER_LINE)
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/mfa/challenge"


def test_the_password_alone_opens_nothing(locked_out):
    """No factor: no enrolment either, but the page naming the ways back."""
    browser = locked_out.browser()
    page = sign_in(browser, DEMO_HOLDER)
    assert page.status_code == 403 and path_of(page) == "/login"
    assert path_of(browser.get("/mfa/setup")) == "/login"
    assert path_of(browser.get("/account")) == "/account/login"
    assert path_of(browser.get("/account/access-route")) == "/account/login"
    assert tenant_state(locked_out).access_route == "line-only"


def test_the_recovery_sign_in_is_for_the_account_menu_only(holder_factor, live):
    line_only_with(live, OTHER_LINE)
    browser = live.browser()
    _recover(browser, holder_factor)

    # A relying party gets nothing from that session ...
    rp = live.rp()
    params = callback_params(browser.get(rp.authorization_url(prompt="none")))
    assert params["error"] == "login_required" and params["iss"] == live.url
    # ... nor from signing in again for it: the line error, no code.
    page = browser.login(live.rp().authorization_url(), DEMO_HOLDER, DEMO_PASSWORD)
    assert page.status_code == 403 and LINE_ERROR_JA in page.text and not page.is_redirect

    # The session still opens the account menu, but not the admin console.
    assert browser.get("/account").status_code == 200
    console = browser.get("/admin/lines")
    assert console.status_code == 403 and LINE_ERROR_JA in console.text


@pytest.mark.parametrize("email", [DEMO_USER, ADMIN])
def test_anyone_but_the_holder_gets_the_line_error(locked_out, email):
    add_admin(locked_out)
    browser = locked_out.browser()
    page = sign_in(browser, email)
    assert page.status_code == 403 and LINE_ERROR_JA in page.text
    assert path_of(browser.get("/account")) == "/account/login"
    assert audit_events(locked_out, "login.holder_recovery") == []


def test_an_old_holder_session_without_the_factor_must_sign_in_again(live):
    """A session from before the switch proved only the password: the account
    menu sends the holder to sign in (with the factor) rather than admit it."""
    browser = live.browser()
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/account"
    line_only_with(live, OTHER_LINE)
    assert path_of(browser.get("/account")) == "/account/login"
    assert path_of(browser.get("/account/access-route")) == "/account/login"


def test_over_a_registered_line_the_holder_needs_no_recovery(live):
    line_only_with(live, LINE)
    browser = line_browser(live)
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/account"
    assert browser.get("/admin/lines").status_code == 200
    assert audit_events(live, "login.holder_recovery") == []
