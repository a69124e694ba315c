"""Password change from the account menu (manual §3): the rule shown and each
broken rule named; the current password is a sign-in (a wrong one counts
towards the lock, the lock ends the session); a new password ends every other
session and grant but keeps this browser signed in as it was, and the person
is told by mail."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from idp import db
from idp.models import BrowserSession

from ..conftest import Live
from ..line_steps import refresh, rp_sign_in, set_mfa
from ..mfa_steps import align_to_step, audit_events, enrol_totp, fail_sign_ins, path_of, sign_in, totp_code, user_named
from ..rp import DEMO_HOLDER, DEMO_PASSWORD, DEMO_USER, Browser, parse_forms, text_of
from ..transports import MailServer

NEW_PASSWORD = "Tsuki-Umi-8841-Hana"
RULE_JA = "パスワードは英大文字、英小文字、数字、記号から3種類以上を含め8文字以上で設定してください"
RULE_EN = (
    "Use at least 8 characters, with at least three of: upper-case letters, lower-case letters, digits and symbols."
)
WRONG_JA = "現在のパスワードが正しくありません。"
LOCKED_JA = "ログインを複数回連続して試行したため、アカウントがブロックされました。"
SHORT = "パスワードは8文字以上で設定してください。"
KINDS = "英大文字、英小文字、数字、記号から3種類以上を含めてください。"
COMMON = "よく使われているパスワードのため設定できません。推測されにくいパスワードを設定してください。"
MISMATCH = "確認用パスワードが一致しません。"
ERROR = re.compile(r'<p class="error" role="alert">([^<]*)</p>')


def _signed_in(live: Live, email: str = DEMO_USER) -> Browser:
    browser = live.browser()
    assert path_of(sign_in(browser, email)) == "/account"
    return browser


def _change(browser: Browser, current: str, new: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    browser.get("/account/password")
    fields = {"current_password": current, "password": new, "password_confirm": new if confirm is None else confirm}
    return browser.submit(fields)


def _sessions(live: Live, email: str) -> list[BrowserSession]:
    with live.app.app_context():
        user = user_named(email)
        query = select(BrowserSession).where(BrowserSession.user_id == user.id).order_by(BrowserSession.auth_time)
        return list(db.session().scalars(query))


def _can_sign_in(live: Live, password: str, email: str = DEMO_USER) -> bool:
    return path_of(sign_in(live.browser(), email, password)) == "/account"


# -- the page -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "rule", "title"), [("ja", RULE_JA, "パスワード変更"), ("en", RULE_EN, "Change password")]
)
def test_the_page_shows_the_rule_and_the_three_fields(live, lang, rule, title):
    page = _signed_in(live).get(f"/account/password?lang={lang}")
    assert page.status_code == 200 and f"<h1>{title}</h1>" in page.text
    assert rule in text_of(page.text)
    (form,) = parse_forms(page.text)
    assert form["method"] == "post"
    assert set(form["fields"]) == {"csrf_token", "current_password", "password", "password_confirm"}
    assert 'href="/account"' in page.text  # 戻る


@pytest.mark.parametrize(
    ("new", "confirm", "errors"),
    [
        ("Ab1!", None, [SHORT]),
        ("abcdefgh", None, [KINDS]),
        ("Password1!", None, [COMMON]),
        (NEW_PASSWORD, NEW_PASSWORD + "x", [MISMATCH]),
        ("", None, [SHORT, KINDS]),
    ],
)
def test_each_broken_rule_is_named_and_nothing_changes(live, new, confirm, errors):
    browser = _signed_in(live)
    page = _change(browser, DEMO_PASSWORD, new, confirm)
    assert ERROR.findall(page.text) == errors
    assert 'name="current_password"' in page.text
    assert _can_sign_in(live, DEMO_PASSWORD) and audit_events(live, "password.changed") == []


def test_a_password_that_is_the_email_is_refused(live):
    page = _change(_signed_in(live), DEMO_PASSWORD, DEMO_USER.upper())
    assert "メールアドレスと同じパスワードは設定できません。" in text_of(page.text)
    assert _can_sign_in(live, DEMO_PASSWORD)


# -- success --------------------------------------------------------------------------


def test_a_new_password_keeps_this_browser_and_ends_everything_else(live, mail: MailServer):
    """The user holds a relying party's refresh token, and signed in with two-step
    verification here and in another browser. After the change: this browser is
    still signed in with the same methods; the other browser and the refresh
    token are not."""
    elsewhere = rp_sign_in(live, live.browser(), DEMO_USER, DEMO_PASSWORD)
    set_mfa(live, True)
    align_to_step()
    secret, _ = enrol_totp(live, DEMO_USER)
    browser, other = live.browser(), live.browser()
    for steps, b in enumerate((browser, other)):
        assert path_of(sign_in(b, DEMO_USER)) == "/mfa/challenge"
        assert path_of(b.submit({"code": totp_code(secret, steps)})) == "/account"

    before = _sessions(live, DEMO_USER)  # this browser's first
    done = _change(browser, DEMO_PASSWORD, NEW_PASSWORD)
    assert done.status_code == 200 and "パスワードの変更が完了しました。" in text_of(done.text)
    assert '<a class="button" id="to-menu" href="/account">認証・契約者情報メニューへ</a>' in done.text

    assert browser.get("/account").status_code == 200  # this browser: still signed in
    assert path_of(other.get("/account")) == "/account/login"  # the other one: signed out
    answer = refresh(live, elsewhere.tokens["refresh_token"])
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    (fresh,) = [s for s in _sessions(live, DEMO_USER) if s.id not in {b.id for b in before}]
    assert fresh.amr == ["pwd", "otp", "mfa"] and fresh.revoked_at is None
    # The same sign-in, not a new one: its time and lifetime carry over.
    assert (fresh.auth_time, fresh.expires_at) == (before[0].auth_time, before[0].expires_at)
    # What this browser proved still reaches a relying party, without a new sign-in.
    assert rp_sign_in(live, browser, DEMO_USER, "not asked").claims["amr"] == ["pwd", "otp", "mfa"]

    assert not _can_sign_in(live, DEMO_PASSWORD)
    assert path_of(sign_in(live.browser(), DEMO_USER, NEW_PASSWORD)) == "/mfa/challenge"
    assert [e.email for e in audit_events(live, "password.changed")] == [DEMO_USER]
    notice = mail.inbox.wait_for(DEMO_USER)
    assert notice.subject == "【ワークストレージ】パスワード変更のお知らせ"
    assert "パスワードが変更されました" in notice.body and "http" not in notice.body


# -- the current password ----------------------------------------------------------------


def test_a_wrong_current_password_counts_like_a_wrong_login(live):
    browser = _signed_in(live)
    page = _change(browser, "Wrong-pass-1", NEW_PASSWORD)
    assert page.status_code == 401 and WRONG_JA in text_of(page.text)
    (failure,) = audit_events(live, "login.failure")
    assert failure.email == DEMO_USER and failure.detail["consecutive"] == 1
    assert _can_sign_in(live, DEMO_PASSWORD) and audit_events(live, "password.changed") == []


def test_ten_wrong_current_passwords_lock_the_account_and_end_the_session(live, mail: MailServer):
    browser = _signed_in(live)
    for attempt in range(1, 10):
        page = _change(browser, f"Wrong-pass-{attempt}", NEW_PASSWORD)
        assert page.status_code == 401 and WRONG_JA in text_of(page.text), attempt
    locked = _change(browser, "Wrong-pass-10", NEW_PASSWORD)
    assert locked.status_code == 401 and LOCKED_JA in text_of(locked.text)
    assert 'name="current_password"' not in locked.text
    assert "/unlock?ticket=" in mail.inbox.wait_for(DEMO_USER).body
    assert [e.email for e in audit_events(live, "account.locked")] == [DEMO_USER]
    assert path_of(browser.get("/account")) == "/account/login"
    assert not _can_sign_in(live, DEMO_PASSWORD)  # locked


def test_wrong_logins_elsewhere_and_here_share_one_count(live, mail: MailServer):
    browser = _signed_in(live, DEMO_HOLDER)
    fail_sign_ins(live, 9, DEMO_HOLDER)
    locked = _change(browser, "Wrong-pass-10", NEW_PASSWORD)
    assert locked.status_code == 401 and LOCKED_JA in text_of(locked.text)
    assert path_of(browser.get("/account/password")) == "/account/login"


def test_an_empty_current_password_is_not_tried(live):
    browser = _signed_in(live)
    page = _change(browser, "", NEW_PASSWORD)
    assert page.status_code == 401 and WRONG_JA in text_of(page.text)
    assert audit_events(live, "login.failure") == []


def test_a_post_without_the_csrf_token_changes_nothing(live):
    browser = _signed_in(live)
    fields = {"current_password": DEMO_PASSWORD, "password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    answer = browser.http.post(live.url + "/account/password", data=fields, timeout=10)
    assert answer.status_code == 400 and "画面の有効期限が切れました。" in text_of(answer.text)
    assert _can_sign_in(live, DEMO_PASSWORD)


def test_signed_out_the_page_leads_to_the_menu_login(live):
    assert path_of(live.browser().get("/account/password")) == "/account/login"
