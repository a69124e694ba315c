"""Line authentication as a claim-level policy: a line-only tenant admits only a
sign-in recorded over one of its registered lines, at every point a session or
token is used — the login, a reused browser session, the code exchange, a
refresh, userinfo and introspection. Switching the tenant to line-only, or
removing the line, takes effect on the next use of what was issued before."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from idp import db
from idp.models import Grant

from ..conftest import Live
from ..line_steps import (
    LINE_CHECKS_JA,
    LINE_ERROR_JA,
    SignedIn,
    introspect,
    line_browser,
    line_only_with,
    over_line,
    redeem,
    refresh,
    register_line,
    remove_line,
    rp_sign_in,
    serve,
    set_mfa,
    set_route,
    tenant_state,
    untrusted_browser,
    userinfo,
)
from ..mfa_steps import audit_events, path_of
from ..rp import (
    DEMO_HOLDER,
    DEMO_PASSWORD,
    DEMO_USER,
    Browser,
    RelyingParty,
    callback_params,
    code_from,
    parse_forms,
    text_of,
)

WHY_TWO_STEP_IS_OFF = (
    "アクセス経路設定で「回線認証のみ」が選択されているため、2段階認証の設定は自動的に無効となっています。"
)


@pytest.fixture
def live(database_url, tmp_path, key_template, mail, sms):
    yield from serve(database_url, tmp_path, key_template, mail, sms)


# -- the login -----------------------------------------------------------------------


def test_from_the_internet_the_login_shows_the_line_error(live):
    line_only_with(live)
    rp = live.rp()
    browser = live.browser()
    page = browser.login(rp.authorization_url())
    assert page.status_code == 403 and not page.is_redirect
    text = text_of(page.text)
    assert LINE_ERROR_JA in text and all(check in text for check in LINE_CHECKS_JA)
    assert browser.http.cookies.get(live.settings.session_cookie) is None
    (refused,) = audit_events(live, "login.refused")
    assert refused.email == DEMO_USER and refused.detail["reason"] == "line_required"


def test_the_line_error_in_english(live):
    line_only_with(live)
    browser = live.browser()
    browser.get("/login?lang=en")
    page = browser.submit({"email": DEMO_USER, "password": DEMO_PASSWORD})
    assert page.status_code == 403
    text = text_of(page.text)
    assert "Line authentication error" in text
    assert "that line authentication has been set up" in text
    assert "that the line number of the line you are using is registered correctly" in text


@pytest.mark.parametrize(
    "browser_for",
    [
        lambda live: over_line(live, untrusted_browser(live)),  # the right number, spoofed
        lambda live: line_browser(live, "CAF9876543210"),  # a line not registered
    ],
    ids=["spoofed", "unregistered"],
)
def test_no_registered_line_no_code(live, browser_for: Callable[[Live], Browser]):
    line_only_with(live)
    rp = live.rp()
    page = browser_for(live).login(rp.authorization_url())
    assert page.status_code == 403 and LINE_ERROR_JA in page.text


# -- what was issued before the switch -------------------------------------------------


@dataclass
class Issued:
    """Everything a sign-in left behind: the browser's session, tokens, and a code not yet redeemed."""

    browser: Browser
    signed_in: SignedIn
    pending_code: str
    pending_rp: RelyingParty


def _issue(live: Live, browser: Browser) -> Issued:
    signed_in = rp_sign_in(live, browser, DEMO_USER, DEMO_PASSWORD)
    rp = live.rp()
    code = code_from(browser.get(rp.authorization_url()))  # the session answers at once
    return Issued(browser, signed_in, code, rp)


def _all_refused(live: Live, issued: Issued) -> None:
    tokens = issued.signed_in.tokens

    # The browser session is not used: prompt=none cannot be satisfied.
    rp = live.rp()
    answer = issued.browser.get(rp.authorization_url(prompt="none"))
    params = callback_params(answer)
    assert params["error"] == "login_required" and params["iss"] == live.url and params["state"] == rp.state
    # Without prompt=none: the login page, not a code.
    assert path_of(issued.browser.get(live.rp().authorization_url())) == "/login"

    exchange = redeem(live, issued.pending_rp, issued.pending_code)
    assert exchange.status_code == 400 and exchange.json()["error"] == "invalid_grant"

    renewed = refresh(live, tokens["refresh_token"])
    assert renewed.status_code == 400 and renewed.json()["error"] == "invalid_grant"

    info = userinfo(live, tokens["access_token"])
    assert info.status_code == 401 and 'error="invalid_token"' in info.headers["WWW-Authenticate"]

    assert introspect(live, tokens["access_token"]) == {"active": False}
    assert introspect(live, tokens["refresh_token"]) == {"active": False}


def _all_honoured(live: Live, issued: Issued) -> None:
    """The same uses succeed while the policy admits the sign-in (the control)."""
    tokens = issued.signed_in.tokens
    rp = live.rp()
    assert "code" in callback_params(issued.browser.get(rp.authorization_url(prompt="none")))
    assert userinfo(live, tokens["access_token"]).status_code == 200
    assert introspect(live, tokens["access_token"])["active"] is True
    assert introspect(live, tokens["refresh_token"])["active"] is True


def test_switching_to_line_only_ends_internet_sign_ins(live):
    register_line(live)
    issued = _issue(live, live.browser())
    _all_honoured(live, issued)
    set_route(live, "line-only")
    _all_refused(live, issued)


def test_switching_to_line_only_keeps_line_sign_ins(live):
    register_line(live)
    issued = _issue(live, line_browser(live))
    set_route(live, "line-only")
    _all_honoured(live, issued)
    assert redeem(live, issued.pending_rp, issued.pending_code).status_code == 200
    renewed = refresh(live, issued.signed_in.tokens["refresh_token"])
    assert renewed.status_code == 200 and "line_id" in issued.signed_in.claims


def test_removing_the_line_ends_its_sign_ins(live):
    line_only_with(live)
    issued = _issue(live, line_browser(live))
    _all_honoured(live, issued)
    remove_line(live)
    _all_refused(live, issued)


def test_after_the_switch_back_the_internet_signs_in_again(live):
    register_line(live)
    set_route(live, "line-only")
    set_route(live, "line+internet")
    assert rp_sign_in(live, live.browser(), DEMO_USER, DEMO_PASSWORD).claims["amr"] == ["pwd"]


def test_a_refused_refresh_token_is_not_spent(live):
    """Refused is not revoked: the policy says "not now", and a token presented
    again once the tenant admits the internet is not a replay."""
    register_line(live)
    issued = _issue(live, live.browser())
    set_route(live, "line-only")
    assert refresh(live, issued.signed_in.tokens["refresh_token"]).status_code == 400
    set_route(live, "line+internet")
    assert refresh(live, issued.signed_in.tokens["refresh_token"]).status_code == 200
    with live.app.app_context():
        assert db.session().scalars(select(Grant.revoked_reason).where(Grant.revoked_at.is_not(None))).all() == []


# -- the switch through the account menu ----------------------------------------------


def _choose_route(browser: Browser, route: str) -> str:
    """The holder's access-route page (manual §4.1): choose, confirm, done."""
    page = browser.get("/account/access-route")
    assert page.status_code == 200
    confirm = browser.submit({"route": route})
    assert 'id="route-confirm"' in confirm.text
    done = browser.submit({})
    assert 'id="route-done"' in done.text
    return done.text


def test_the_holder_switches_through_the_account_menu(live):
    register_line(live)
    issued = _issue(live, live.browser())
    holder = line_browser(live)
    holder.get("/login")
    assert path_of(holder.submit({"email": DEMO_HOLDER, "password": DEMO_PASSWORD})) == "/account"
    assert "回線認証のみ" in _choose_route(holder, "line-only")
    assert tenant_state(live).access_route == "line-only"
    (changed,) = audit_events(live, "tenant.access_route_changed")
    assert changed.email == DEMO_HOLDER and changed.detail == {"route": "line-only", "via": "account_menu"}
    _all_refused(live, issued)
    # The holder signed in over the line, so the holder's own session goes on.
    assert holder.get("/account").status_code == 200


def test_an_internet_session_of_a_user_loses_the_account_menu(live):
    register_line(live)
    browser = live.browser()
    browser.get("/login")
    assert path_of(browser.submit({"email": DEMO_USER, "password": DEMO_PASSWORD})) == "/account"
    set_route(live, "line-only")
    page = browser.get("/account")
    assert page.status_code == 403 and LINE_ERROR_JA in page.text


# -- two-step verification under line-only (manual §5.1) ------------------------------


def test_line_only_turns_two_step_off_and_the_setting_page_says_why(live):
    set_mfa(live, True)
    line_only_with(live)
    assert tenant_state(live).mfa_enabled is False
    events = audit_events(live, "tenant.access_route_changed", "tenant.mfa_changed")
    changes = [(e.event, e.detail) for e in events if e.detail.get("enabled") is not True]
    assert changes == [
        ("tenant.access_route_changed", {"route": "line-only", "via": "test"}),
        ("tenant.mfa_changed", {"enabled": False, "via": "test", "reason": "line-only"}),
    ]

    holder = line_browser(live)
    holder.get("/login")
    holder.submit({"email": DEMO_HOLDER, "password": DEMO_PASSWORD})
    page = holder.get("/account/mfa")
    assert page.status_code == 200
    assert WHY_TWO_STEP_IS_OFF in text_of(page.text)
    assert not any(form["fields"].get("mfa") for form in parse_forms(page.text))
    # A forged post changes nothing either.
    holder.http.post(live.url + "/account/mfa", data={"mfa": "on", "stage": "confirm", "confirmed": "y"}, timeout=10)
    assert tenant_state(live).mfa_enabled is False
