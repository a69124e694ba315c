"""The account menu (認証・契約情報変更メニュー, manual §0, §2.1, §3): exactly the
items the manual's table gives each person, under its three headings, each
linking to its page; its own login screen; a page someone may not use answers
a localized 403 that leads back to the menu."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from idp import clock, db
from idp.models import IdentityKind, Tenant

from ..conftest import Live
from ..mfa_steps import DEMO_ADMIN, add_admin, audit_events, path_of, sign_in, user_named
from ..rp import DEMO_HOLDER, DEMO_USER, Browser, callback_params, parse_forms, text_of
from .helpers import authorize_url

# Each item of the manual's table (§0) and its page (CONTRACT.md), in the menu's order.
PAGES = {
    "login_method": "/account/login-method",
    "email": "/account/email",
    "password": "/account/password",
    "access_route": "/account/access-route",
    "two_step": "/account/mfa",
    "active_directory": "/account/ad",
    "contract": "/account/contract",
    "plan": "/account/plan",
    "cancel": "/account/cancel",
}
BASIC_HOLDER = list(PAGES)
TRIAL_HOLDER = ["password", "access_route", "two_step", "active_directory", "plan"]
OTHERS = ["password"]  # anyone but the holder, whose login method is email and password

HEADINGS = {
    "ja": ("〈認証情報の変更〉", "〈認証情報の設定〉", "〈契約情報の変更〉"),
    "en": ("Change your sign-in details", "Sign-in settings of the contract", "Change your contract"),
}
GROUP_OF = {item: 0 for item in ("login_method", "email", "password")}
GROUP_OF |= {item: 1 for item in ("access_route", "two_step", "active_directory")}
GROUP_OF |= {item: 2 for item in ("contract", "plan", "cancel")}
EXPLANATIONS_JA = (
    "あなたの認証情報を変更できます。 ※メールアドレス変更では本サービスで登録しているメールアドレスを変更できます。",
    "ご契約している本サービスにおける設定の確認・変更が行えます。 "
    "※認証方法は登録されている全てのユーザに適用されます。",
    "ご契約している本サービスの契約情報を変更できます。",
)
# Manual §2.1 (3), whole.
ONLY_PERMITTED_JA = (
    "あなたに許可されたメニューのみ表示しております。"
    "ご不明点がございましたら、サポートセンターまでお問い合わせください。"
)
ONLY_PERMITTED_EN = (
    "Only the menu items permitted to you are shown. If you have any questions, please contact the support center."
)
LABELS_JA = {
    "login_method": "ログイン方法の設定",
    "email": "メールアドレス変更",
    "password": "パスワード変更",
    "access_route": "アクセス経路設定",
    "two_step": "2段階認証設定",
    "active_directory": "Active Directory設定",
    "contract": "契約情報変更",
    "plan": "プラン変更",
    "cancel": "解約",
}
MENU_LINK = re.compile(r'<a id="menu-([a-z_]+)" href="([^"]+)">([^<]+)</a>')
FORBIDDEN = {
    "ja": (
        "このページはご利用いただけません",
        "このアカウントではこのページをご利用いただけません。",
        "認証・契約者情報メニューへ",
    ),
    "en": ("This page is not available", "This page is not available to this account.", "To the account menu"),
}


def _words(html: str) -> str:
    """The page's text with tags taken out and nothing put in their place (a link
    inside a sentence stays part of it)."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", html))


def _existing(live: Live, items: list[str]) -> list[str]:
    """The items whose page this build serves: the menu lists no page that is not there."""
    rules = {rule.rule for rule in live.app.url_map.iter_rules()}
    return [item for item in items if PAGES[item] in rules]


def _menu(page: requests.Response) -> list[tuple[str, str, str]]:
    return [(item, href, label) for item, href, label in MENU_LINK.findall(page.text) if item in PAGES]


def _signed_in(live: Live, email: str) -> Browser:
    browser = live.browser()
    assert path_of(sign_in(browser, email)) == "/account"
    return browser


def _make_trial(live: Live) -> None:
    with live.app.app_context():
        tenant = db.session().scalar(select(Tenant).where(Tenant.name == "demo"))
        tenant.plan, tenant.trial_ends_at = "trial", clock.now() + timedelta(days=20)
        db.commit()


# -- exactly the items of the table -------------------------------------------------


@pytest.mark.parametrize(
    ("plan", "email", "items"),
    [
        ("basic", DEMO_HOLDER, BASIC_HOLDER),
        ("basic", DEMO_ADMIN, OTHERS),
        ("basic", DEMO_USER, OTHERS),
        ("trial", DEMO_HOLDER, TRIAL_HOLDER),
        ("trial", DEMO_USER, OTHERS),
    ],
)
def test_each_person_sees_exactly_their_items(live, plan, email, items):
    add_admin(live)
    if plan == "trial":
        _make_trial(live)
    page = _signed_in(live, email).get("/account")
    expected = _existing(live, items)
    assert expected  # everyone here signs in with a password
    menu = _menu(page)
    assert [item for item, _, _ in menu] == expected
    assert [href for _, href, _ in menu] == [PAGES[item] for item in expected]
    assert [label for _, _, label in menu] == [LABELS_JA[item] for item in expected]


def test_every_link_opens_its_page(live):
    browser = _signed_in(live, DEMO_HOLDER)
    for _, href, _ in _menu(browser.get("/account")):
        page = browser.get(href)
        assert page.status_code == 200 and path_of(page) == href, href


@pytest.mark.parametrize("lang", ["ja", "en"])
def test_headings_and_explanations_of_the_manual(live, lang):
    holder = _signed_in(live, DEMO_HOLDER).get(f"/account?lang={lang}")
    text = text_of(holder.text)
    assert (ONLY_PERMITTED_JA if lang == "ja" else ONLY_PERMITTED_EN) in text
    shown = {GROUP_OF[item] for item, _, _ in _menu(holder)}
    for group, heading in enumerate(HEADINGS[lang]):
        assert (heading in text) is (group in shown), heading
    if lang == "ja":
        for group in shown:
            assert EXPLANATIONS_JA[group] in text
        assert "トップ画面へ" in text

    user = text_of(_signed_in(live, DEMO_USER).get(f"/account?lang={lang}").text)
    assert HEADINGS[lang][0] in user
    assert HEADINGS[lang][1] not in user and HEADINGS[lang][2] not in user


def test_a_person_without_a_password_login_has_no_password_item(live):
    """Manual §3: the password is changed only by those who log in with email and
    password. The login method is swapped underneath a live session, as the
    login-method page will do."""
    browser = _signed_in(live, DEMO_USER)
    with live.app.app_context():
        user = user_named(DEMO_USER)
        (identity,) = user.identities
        identity.kind, identity.provider, identity.password_hash = IdentityKind.UPSTREAM, "google", None
        db.commit()
    page = browser.get("/account")
    assert page.status_code == 200 and _menu(page) == []
    assert "〈認証情報の変更〉" not in text_of(page.text)
    assert browser.get("/account/password").status_code == 403


# -- the top link -----------------------------------------------------------------


def test_the_top_link_without_a_relying_party_is_the_login_page(live):
    page = _signed_in(live, DEMO_USER).get("/account")
    assert re.search(r'id="menu-top" href="/login"', page.text)


def test_the_top_link_goes_back_to_the_relying_party_that_sent_the_browser(live):
    """A person on the service's login page opens the account menu (the login
    page's link), signs in there, and goes back to the top: the service's
    sign-in request resumes and the service gets its code."""
    browser = live.browser()
    login = browser.get(authorize_url(live))
    assert path_of(login) == "/login"
    menu_login = browser.get("/account")
    assert path_of(menu_login) == "/account/login"
    menu = browser.submit({"email": DEMO_USER, "password": "Demo-pass-2026"})
    assert path_of(menu) == "/account"  # the menu's login leads to the menu
    top = re.search(r'id="menu-top" href="([^"]+)"', menu.text)
    assert top and top.group(1).startswith("/authorize?")
    callback = callback_params(browser.get(top.group(1).replace("&amp;", "&")))
    assert callback["state"] == "st-123" and "code" in callback


# -- the menu's own login screen (manual §2.1 (2)) ---------------------------------


@pytest.mark.parametrize(
    ("lang", "title", "back"),
    [
        ("ja", "認証・契約情報変更ログイン", "ログインの方はこちらからログインしてください。"),
        ("en", "Sign in to change sign-in and contract details", "To log in to the service, log in here."),
    ],
)
def test_the_menu_has_its_own_login_screen(live, lang, title, back):
    browser = live.browser()
    browser.get(f"/login?lang={lang}")  # the language the person chose
    page = browser.get("/account")
    assert path_of(page) == "/account/login"
    assert re.search(r"<h1>\s*" + re.escape(title) + r"\s*</h1>", page.text)
    assert back in _words(page.text)
    assert re.search(r'id="to-login">[^<]*<a href="/login"', page.text)
    (form,) = parse_forms(page.text)
    assert form["action"] == "/account/login" and set(form["fields"]) == {"csrf_token", "email", "password"}
    assert path_of(browser.submit({"email": DEMO_HOLDER, "password": "Demo-pass-2026"})) == "/account"


def test_the_login_page_links_to_the_menu(live):
    page = live.browser().get("/login")
    assert "パスワード変更、その他認証・契約情報の変更はこちら" in _words(page.text)
    assert '<a href="/account">' in page.text


def test_the_menu_login_counts_wrong_passwords_like_the_login_page(live):
    browser = live.browser()
    browser.get("/account/login")
    wrong = browser.submit({"email": DEMO_USER, "password": "Wrong-pass-1"})
    assert wrong.status_code == 401 and "メールアドレスまたはパスワードが正しくありません。" in text_of(wrong.text)
    (failure,) = audit_events(live, "login.failure")
    assert failure.email == DEMO_USER and failure.detail["consecutive"] == 1


# -- pages someone may not use ------------------------------------------------------


@pytest.mark.parametrize("lang", ["ja", "en"])
@pytest.mark.parametrize("path", ["/account/access-route", "/account/mfa", "/admin/lines"])
def test_a_page_not_for_this_account_is_a_localized_403(live, path, lang):
    browser = _signed_in(live, DEMO_USER)
    page = browser.get(f"{path}?lang={lang}")
    title, sentence, link = FORBIDDEN[lang]
    assert page.status_code == 403
    assert re.search(r"<h1>\s*" + re.escape(title) + r"\s*</h1>", page.text)
    assert sentence in text_of(page.text)
    assert re.search(r'<a id="back-to-menu" href="/account">\s*' + re.escape(link), page.text)
    fields = parse_forms(browser.get("/account").text)[0]["fields"]
    posted = browser.http.post(live.url + path, data={**fields, "route": "line-only"}, timeout=10)
    assert posted.status_code == 403 and sentence in text_of(posted.text)
