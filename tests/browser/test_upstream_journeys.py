"""Manual §1.2, §1.5, §2.1 in a real browser: the login method switched to an
upstream account and back, registration with Microsoft and Facebook, one
Facebook account never replaced by another, and the failures a person can
meet on the way back from an upstream (each a page that signs nobody in)."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit, urlunsplit

import pytest
from playwright.sync_api import Page, Route, expect

from ..account_steps import NEW_PASSWORD, link_upstream
from ..invite_steps import console, invitation_link, invite
from ..rp import DEMO_HOLDER
from ..upstream_steps import DOWN, Federated, serve
from .helpers import expect_menu, log_out, sign_in, submit

TEXT = {
    "ja": {
        "done": "申込完了",
        "unknown": "このアカウントは登録されていません",
        "facebook_switch": "異なる Facebook アカウントへは切り替えできません",
        "not_matched": "このブラウザで開始されたログインと一致しません",
        "down": "NTT東日本ビジネスIDが現在応答していません",
        "nobody": "ログインは行われていません。",
    },
    "en": {
        "done": "Registration complete",
        "unknown": "is not registered",
        "facebook_switch": "cannot be switched to a different Facebook account",
        "not_matched": "could not be matched with one started in this browser",
        "down": "is not answering at the moment",
        "nobody": "Nobody was logged in.",
    },
}


@pytest.fixture
def fed(database_url, tmp_path, key_template, mail, sms, oidc_upstreams, facebook_upstream):  # type: ignore[no-untyped-def]
    yield from serve(database_url, tmp_path, key_template, mail, sms, oidc_upstreams, facebook_upstream)


def _upstream_form(page: Page, login: str) -> None:
    """The upstream's own login form (the loopback OpenID providers and Facebook alike)."""
    page.fill("input[name=login]", login)
    page.click("form:has([name=login]) button[type=submit]")


def _signed_out(page: Page, fed: Federated) -> None:
    page.goto(fed.live.url + "/account")
    expect(page).to_have_url(re.compile(r"/account/login$"))


def _failure(page: Page, failure: str, text: str, locale: str) -> None:
    expect(page.locator("#upstream-error")).to_have_attribute("data-failure", failure)
    expect(page.locator("#upstream-error")).to_contain_text(text)
    expect(page.locator("main")).to_contain_text(TEXT[locale]["nobody"])
    expect(page.locator("#error-id")).not_to_be_empty()


def test_the_holder_switches_to_google_signs_in_with_it_and_switches_back(
    fed: Federated, page: Page, locale: str
) -> None:
    live, account = fed.live, fed.oidc.add_account("google", "boss@gmail.example")
    sign_in(page, live, DEMO_HOLDER)
    expect_menu(page, locale)
    page.goto(live.url + "/account/login-method")
    expect(page.locator("#current-method")).to_have_attribute("data-provider", "password")
    page.click("#choose-google")
    _upstream_form(page, account.sub)
    expect(page.locator("#method-changed")).to_be_visible()
    _signed_out(page, fed)  # manual §2.1 (1): after the change, log in again

    page.goto(live.url + "/login")
    page.click("#login-google")  # the upstream remembers this browser: no form this time
    expect_menu(page, locale)
    page.goto(live.url + "/account/login-method")
    expect(page.locator("#current-method")).to_have_attribute("data-provider", "google")
    log_out(page, live)
    page.goto(live.url + "/login")
    page.click("#login-google")
    expect_menu(page, locale)

    page.goto(live.url + "/account/login-method")
    page.click("#choose-password")
    expect(page).to_have_url(live.url + "/account/login-method/password")
    page.fill("input[name=password]", NEW_PASSWORD)
    page.fill("input[name=password_confirm]", NEW_PASSWORD)
    submit(page, "password_confirm")
    expect(page.locator("#method-changed")).to_be_visible()
    _signed_out(page, fed)
    sign_in(page, live, DEMO_HOLDER, NEW_PASSWORD)
    expect_menu(page, locale)
    log_out(page, live)
    page.goto(live.url + "/login")
    page.click("#login-google")  # the Google account no longer signs anybody in
    expect(page.locator("#not-registered")).to_be_visible()
    expect(page.locator("main")).to_contain_text(TEXT[locale]["unknown"])
    _signed_out(page, fed)


def _register(fed: Federated, page: Page, email: str, provider: str, login: str, locale: str) -> None:
    invite(console(fed.live), email)
    page.goto(invitation_link(fed.live, fed.mail, email))
    page.click(f"form[data-provider={provider}] button")
    _upstream_form(page, login)
    expect(page.locator("h1")).to_have_text(TEXT[locale]["done"])
    page.click("#register-ok")


def test_invited_people_register_with_microsoft_and_with_facebook_and_sign_in(
    fed: Federated, page: Page, new_page: Callable[[], Page], locale: str
) -> None:
    # An account of a Microsoft tenant other than ours: the templated issuer, checked against its tid.
    microsoft = fed.oidc.add_account("microsoft", "guest@contoso.example", tenant=fed.oidc.other_tenant)
    _register(fed, page, "ms.user@demo.example", "microsoft", microsoft.sub, locale)
    page.click("#login-microsoft")  # remembered by the upstream
    expect_menu(page, locale)

    facebook = fed.facebook.add_account("fb@example.com", name="Fb User")
    other = new_page()
    _register(fed, other, "fb.user@demo.example", "facebook", facebook.id, locale)
    other.click("#login-facebook")
    _upstream_form(other, facebook.id)  # Facebook's dialog asks every time
    expect_menu(other, locale)
    log_out(other, fed.live)
    other.goto(fed.live.url + "/login")
    other.click("#login-facebook")
    _upstream_form(other, facebook.id)
    expect_menu(other, locale)


def test_facebook_account_a_is_not_replaced_by_b_on_the_login_method_page(
    fed: Federated, page: Page, new_page: Callable[[], Page], locale: str
) -> None:
    """Manual §2.1 (1)."""
    first, second = fed.facebook.add_account("a@fb.example"), fed.facebook.add_account("b@fb.example")
    link_upstream(fed.live, DEMO_HOLDER, "facebook", first.id)
    page.goto(fed.live.url + "/login")
    page.click("#login-facebook")
    _upstream_form(page, first.id)
    expect_menu(page, locale)
    page.goto(fed.live.url + "/account/login-method")
    expect(page.locator("#current-method")).to_have_attribute("data-provider", "facebook")
    page.click("#choose-facebook")
    _upstream_form(page, second.id)

    expect(page.locator("#link-refused")).to_contain_text(TEXT[locale]["facebook_switch"])
    page.goto(fed.live.url + "/account/login-method")  # nothing changed
    expect(page.locator("#current-method")).to_have_attribute("data-provider", "facebook")
    stranger = new_page()
    stranger.goto(fed.live.url + "/login")
    stranger.click("#login-facebook")
    _upstream_form(stranger, second.id)
    expect(stranger.locator("#not-registered")).to_be_visible()
    _signed_out(stranger, fed)
    log_out(page, fed.live)
    page.goto(fed.live.url + "/login")
    page.click("#login-facebook")
    _upstream_form(page, first.id)
    expect_menu(page, locale)


def _with(url: str, **params: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    return urlunsplit(parts._replace(query=urlencode({**query, **params})))


CALLBACK = re.compile(r"/login/google/callback\?")
UPSTREAM_FORM = re.compile(r"/interaction/[^/]+/login$")


def test_a_wrong_state_a_replayed_callback_and_a_down_upstream_are_pages(
    fed: Federated, page: Page, new_page: Callable[[], Page], locale: str
) -> None:
    text = TEXT[locale]
    account = fed.oidc.add_account("google", "x@gmail.example")
    link_upstream(fed.live, DEMO_HOLDER, "google", account.sub)

    # The callback address edited by hand: the state no longer matches. The upstream's answer is
    # held back (its redirect read, not followed) so that the edited address is the first one opened.
    held: list[str] = []

    def hold(route: Route) -> None:
        location = urljoin(route.request.url, route.fetch(max_redirects=0).headers["location"])
        while not CALLBACK.search(location):  # the upstream's own hops, in this browser's cookies
            location = urljoin(location, page.context.request.get(location, max_redirects=0).headers["location"])
        held.append(location)
        route.abort()

    page.goto(fed.live.url + "/login")
    page.click("#login-google")
    page.route(UPSTREAM_FORM, hold)
    with page.expect_event("requestfailed"):
        _upstream_form(page, account.sub)
    page.unroute(UPSTREAM_FORM)
    assert CALLBACK.search(held[0]), held
    page.goto(_with(held[0], state="edited"))
    expect(page).to_have_url(re.compile(r"/login/google/callback\?"))
    _failure(page, "state", text["not_matched"], locale)
    _signed_out(page, fed)

    # A callback that succeeded, opened again: the same page.
    again = new_page()
    again.goto(fed.live.url + "/login")
    again.click("#login-google")
    with again.expect_request(CALLBACK) as back:
        _upstream_form(again, account.sub)
    expect_menu(again, locale)
    again.goto(back.value.url)
    _failure(again, "state", text["not_matched"], locale)

    # An upstream that does not answer.
    down = new_page()
    down.goto(fed.live.url + "/login")
    down.click(f"#login-{DOWN}")
    _failure(down, "unavailable", text["down"], locale)
    _signed_out(down, fed)
