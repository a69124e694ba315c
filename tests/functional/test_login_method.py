"""ログイン方法の設定 (manual §2.1 (1)): the basic plan's holder sees the method in
use and the methods on offer, each with ``data-provider``; email and password
opens 「メールアドレス・パスワード認証の設定」. Every change asks for the password
again after 5 minutes, resets two-step verification (§5.2) and ends the
other sessions. The rules hold in the domain: the holder never chooses
Active Directory; a Facebook account is never switched to another directly."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp import clock, db
from idp.account import login_method
from idp.account.login_method import MethodRefused, Refusal
from idp.models import IdentityKind

from ..account_steps import NEW_PASSWORD, factor_method, holder, link_upstream, make_trial, signed_in_as
from ..mfa_steps import audit_events, enrol_totp, path_of, post_form, sign_in, user_named
from ..rp import DEMO_HOLDER, DEMO_PASSWORD, DEMO_USER, parse_forms, text_of

ADVICE_JA = "登録したい認証連携するサービスから一度ログアウトした後に"
HOLDER_AD_JA = "契約者は、Active Directory アカウントは選択できません。"


def _choose_password(browser):  # type: ignore[no-untyped-def]
    page = browser.get("/account/login-method")
    assert path_of(page) == "/account/login-method", page.url
    return browser.submit({"provider": "password"})


def test_the_page_shows_the_method_in_use_and_the_choices(live):
    page = holder(live).get("/account/login-method")
    assert page.status_code == 200
    assert 'id="current-method" data-provider="password"' in page.text
    (choice,) = [f for f in parse_forms(page.text) if "provider" in f["fields"]]
    assert 'data-provider="password"' in page.text and choice["fields"]["provider"] == "password"
    text = text_of(page.text)
    assert ADVICE_JA in text and HOLDER_AD_JA in text
    assert "異なる Facebook アカウントへは切り替えできません" in text


def test_the_holder_changes_to_a_new_password(live, mail):
    enrol_totp(live, DEMO_HOLDER)  # registered, though the demo tenant does not ask for it now
    browser, other = live.browser(), live.browser()
    for b in (browser, other):
        assert path_of(sign_in(b, DEMO_HOLDER)) == "/account"
    page = _choose_password(browser)
    assert path_of(page) == "/account/login-method/password"
    assert set(parse_forms(page.text)[0]["fields"]) == {"csrf_token", "password", "password_confirm"}
    assert "メールアドレス・パスワード認証の設定" in page.text and DEMO_HOLDER in page.text
    weak = browser.submit({"password": "abc", "password_confirm": "abc"})
    assert "8文字以上" in weak.text
    done = browser.submit({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert 'id="method-changed"' in done.text
    assert factor_method(live, DEMO_HOLDER) is None  # two-step registration reset (manual §5.2)
    for b in (browser, other):
        assert path_of(b.get("/account")) == "/account/login"
    assert sign_in(live.browser(), DEMO_HOLDER, DEMO_PASSWORD).status_code == 401
    assert path_of(sign_in(live.browser(), DEMO_HOLDER, NEW_PASSWORD)) == "/account"
    (event,) = audit_events(live, "account.login_method_changed")
    assert event.detail["method"] == "password" and event.detail["two_step"] == "cleared"


def test_an_upstream_user_changes_to_email_and_password(live):
    """The page takes any method the person may choose; from an upstream account
    (as the registry lists it) to email and password."""
    browser = holder(live)
    link_upstream(live, DEMO_HOLDER, "google", "g-123")
    page = _choose_password(browser)
    done = browser.submit({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert path_of(page) == "/account/login-method/password" and 'id="method-changed"' in done.text
    with live.app.app_context():
        kinds = [(i.kind, i.provider) for i in user_named(DEMO_HOLDER).identities]
    assert kinds == [(IdentityKind.PASSWORD, "")]
    assert path_of(sign_in(live.browser(), DEMO_HOLDER, NEW_PASSWORD)) == "/account"


@pytest.mark.parametrize("path", ["/account/login-method", "/account/login-method/password"])
def test_every_change_asks_for_the_password_after_five_minutes(live, path):
    browser = holder(live)
    assert path_of(browser.get(path)) == path
    clock.advance(timedelta(minutes=6))
    assert path_of(browser.get(path)) == "/account/reauthenticate"
    browser.submit({"password": DEMO_PASSWORD})
    assert path_of(browser.get(path)) == path


def test_a_password_form_posted_after_five_minutes_changes_nothing(live):
    browser = holder(live)
    browser.get("/account/login-method/password")
    clock.advance(timedelta(minutes=6))
    answer = post_form(browser, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert answer.is_redirect and "/account/reauthenticate" in answer.headers["Location"]
    assert path_of(sign_in(live.browser(), DEMO_HOLDER)) == "/account"  # the old password still works
    assert audit_events(live, "account.login_method_changed") == []


@pytest.mark.parametrize("provider", ["google", "ad", "nobody"])
def test_a_method_not_on_offer_is_refused(live, provider):
    browser = holder(live)
    browser.get("/account/login-method")
    answer = browser.submit({"provider": provider})
    assert answer.status_code == 400 and 'id="method-error"' in answer.text
    message = HOLDER_AD_JA if provider == "ad" else "このログイン方法は選択できません。"
    assert message in text_of(answer.text)


def test_only_the_basic_plans_holder_may(live):
    assert signed_in_as(live, DEMO_USER).get("/account/login-method").status_code == 403
    make_trial(live)
    browser = holder(live)
    assert browser.get("/account/login-method").status_code == 403
    assert browser.get("/account/login-method/password").status_code == 403


# -- the rules, in the domain function every way in goes through ----------------------


def test_the_holder_never_links_active_directory(live):
    with live.app.app_context():
        with pytest.raises(MethodRefused) as refused:
            login_method.link(user_named(DEMO_HOLDER), "ad", "holder@corp.example", kind=IdentityKind.AD)
        assert refused.value.reason == Refusal.HOLDER_AD
        assert login_method.refusal(user_named(DEMO_HOLDER), "ad") == Refusal.HOLDER_AD


def test_a_facebook_account_is_not_switched_to_another(live):
    link_upstream(live, DEMO_USER, "facebook", "fb-1")
    with live.app.app_context():
        user = user_named(DEMO_USER)
        with pytest.raises(MethodRefused) as refused:
            login_method.link(user, "facebook", "fb-2")
        assert refused.value.reason == Refusal.FACEBOOK_TO_FACEBOOK
        db.session().rollback()
        assert [(i.provider, i.subject) for i in user_named(DEMO_USER).identities] == [("facebook", "fb-1")]
