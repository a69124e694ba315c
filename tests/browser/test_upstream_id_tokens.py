"""Manual §1.2, §1.5 in a real browser: invited people register with docomo
d-account and with NTT East Business ID and sign in with them; and an ID token
the upstream spoilt (a stranger's signature, another issuer, another audience,
another nonce, expired) is a page that signs nobody in."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from ..account_steps import link_upstream
from ..invite_steps import console, invitation_link, invite
from ..rp import DEMO_HOLDER
from ..upstream_steps import Federated, serve
from .helpers import expect_menu

TEXT = {
    "ja": {
        "done": "申込完了",
        "daccount": "dアカウントでログイン",
        "nttbizid": "NTT東日本ビジネスIDでログイン",
        "unverified": "からの応答を検証できませんでした",
        "nobody": "ログインは行われていません。",
    },
    "en": {
        "done": "Registration complete",
        "daccount": "Log in with d ACCOUNT",
        "nttbizid": "Log in with NTT East Business ID",
        "unverified": "could not be verified",
        "nobody": "Nobody was logged in.",
    },
}


@pytest.fixture
def fed(database_url, tmp_path, key_template, mail, sms, oidc_upstreams, facebook_upstream):  # type: ignore[no-untyped-def]
    # Every upstream answers here, NTT East Business ID included.
    yield from serve(database_url, tmp_path, key_template, mail, sms, oidc_upstreams, facebook_upstream, {})


def _upstream_form(page: Page, login: str) -> None:
    page.fill("input[name=login]", login)
    page.click("form:has([name=login]) button[type=submit]")


@pytest.mark.parametrize("provider", ["daccount", "nttbizid"])
def test_invited_people_register_with_the_japanese_upstreams_and_sign_in(
    fed: Federated, page: Page, new_page: Callable[[], Page], locale: str, provider: str
) -> None:
    text, live = TEXT[locale], fed.live
    account = fed.oidc.add_account(provider, f"someone@{provider}.example")
    email = f"{provider}.user@demo.example"
    invite(console(live), email)

    page.goto(invitation_link(live, fed.mail, email))
    page.click(f"form[data-provider={provider}] button")
    _upstream_form(page, account.sub)
    expect(page.locator("h1")).to_have_text(text["done"])
    page.click("#register-ok")
    expect(page.locator(f"#login-{provider}")).to_have_text(text[provider])
    page.click(f"#login-{provider}")  # remembered by the upstream
    expect_menu(page, locale)

    # The same upstream account from another browser signs the same person in.
    other = new_page()
    other.goto(live.url + "/login")
    other.click(f"#login-{provider}")
    _upstream_form(other, account.sub)
    expect_menu(other, locale)
    expect(other.locator("main")).to_contain_text(email)


SPOILT = ["signature", "iss", "aud", "nonce", "expired"]


def test_a_spoilt_id_token_is_a_page_that_signs_nobody_in(fed: Federated, page: Page, locale: str) -> None:
    text = TEXT[locale]
    account = fed.oidc.add_account("google", "spoilt@gmail.example")
    link_upstream(fed.live, DEMO_HOLDER, "google", account.sub)
    for n, kind in enumerate(SPOILT):
        fed.oidc.tamper("google", kind)
        page.goto(fed.live.url + "/login")
        page.click("#login-google")
        if n == 0:
            _upstream_form(page, account.sub)  # later on, the upstream remembers this browser
        failure = page.locator("#upstream-error")
        expect(failure).to_have_attribute("data-failure", "id_token")
        expect(failure).to_contain_text(text["unverified"])
        expect(page.locator("main")).to_contain_text(text["nobody"])
        expect(page.locator("#error-id")).not_to_be_empty()
        page.goto(fed.live.url + "/account")
        expect(page).to_have_url(re.compile(r"/account/login$"))

    # Nothing was wrong with the account: an untouched token signs the holder in.
    page.goto(fed.live.url + "/login")
    page.click("#login-google")
    expect_menu(page, locale)
