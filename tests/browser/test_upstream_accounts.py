"""Manual §1.2, §1.5: an invited person registers with a Google account (the
loopback upstream's own login form) and signs in with its button; an upstream
account that nobody registered is refused."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from ..invite_steps import console, invitation_link, invite
from ..upstream_steps import Federated, serve
from .helpers import expect_menu

INVITEE = "google.user@demo.example"
TEXT = {
    "ja": {"done": "申込完了", "google": "Googleアカウントでログイン", "unknown": "このアカウントは登録されていません"},
    "en": {"done": "Registration complete", "google": "Log in with Google account", "unknown": "is not registered"},
}


@pytest.fixture
def fed(database_url, tmp_path, key_template, mail, sms, oidc_upstreams, facebook_upstream):  # type: ignore[no-untyped-def]
    yield from serve(database_url, tmp_path, key_template, mail, sms, oidc_upstreams, facebook_upstream)


def test_register_with_google_then_sign_in_and_a_stranger_is_refused(
    fed: Federated, page: Page, new_page: Callable[[], Page], locale: str
) -> None:
    text, live = TEXT[locale], fed.live
    account = fed.oidc.add_account("google", "g.user@gmail.example")
    invite(console(live), INVITEE)

    page.goto(invitation_link(live, fed.mail, INVITEE))
    page.click("form[data-provider=google] button")
    page.fill("input[name=login]", account.sub)  # the upstream's own form
    page.click("form:has([name=login]) button[type=submit]")
    expect(page.locator("h1")).to_have_text(text["done"])
    page.click("#register-ok")

    expect(page.locator("#login-google")).to_have_text(text["google"])
    page.click("#login-google")  # the upstream remembers this browser: no form this time
    expect_menu(page, locale)

    stranger = new_page()
    stranger.goto(live.url + "/login")
    stranger.click("#login-google")
    stranger.fill("input[name=login]", fed.oidc.add_account("google", "nobody@gmail.example").sub)
    stranger.click("form:has([name=login]) button[type=submit]")
    expect(stranger.locator("#not-registered")).to_be_visible()
    assert text["unknown"] in stranger.content()
    stranger.goto(live.url + "/account")
    assert stranger.url.startswith(live.url + "/account/login")


def test_cancelling_at_the_upstream_is_a_page_with_an_error_id(fed: Federated, page: Page, locale: str) -> None:
    page.goto(fed.live.url + "/login")
    page.click("#login-google")
    page.click("form[action$='/abort'] button")  # the upstream's Deny
    expect(page.locator("#upstream-error")).to_have_attribute("data-failure", "denied")
    expect(page.locator("#error-id")).not_to_be_empty()
    page.goto(fed.live.url + "/account")
    assert page.url.startswith(fed.live.url + "/account/login")
