"""The holder's settings that change how every member signs in (two-step
verification, the access route) ask for the password again once the sign-in is
older than five minutes; a wrong password there is a failed login like any
other. The two-step page also carries whether a password reset keeps the
second factor."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from idp import clock, db
from idp.models import BrowserSession, Tenant

from ..conftest import Live
from ..line_steps import line_browser, line_only_with, serve, tenant_state
from ..mfa_steps import audit_events, enrol_totp, fail_sign_ins, path_of, sign_in, user_named
from ..rp import DEMO_HOLDER, DEMO_PASSWORD, DEMO_USER, Browser, parse_forms, text_of
from ..transports import MailServer

WRONG_JA = "メールアドレスまたはパスワードが正しくありません。"
LOCKED_JA = "ログインを複数回連続して試行したため、アカウントがブロックされました。"
KEEP_JA = "パスワードリセット時に2段階認証の登録を保持する"
KEEP_EN = "Keep two-step verification when a password is reset"


@pytest.fixture
def live(database_url, tmp_path, key_template, mail, sms):
    yield from serve(database_url, tmp_path, key_template, mail, sms)


def _holder(live: Live) -> Browser:
    browser = live.browser()
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/account"
    return browser


def _later() -> None:
    clock.advance(timedelta(minutes=6))


def _reauthenticated_at(live: Live):  # type: ignore[no-untyped-def]
    with live.app.app_context():
        holder = user_named(DEMO_HOLDER)
        query = select(BrowserSession.reauthenticated_at).where(
            BrowserSession.user_id == holder.id, BrowserSession.revoked_at.is_(None)
        )
        return db.session().scalar(query)


def _reset_keeps(live: Live) -> bool:
    with live.app.app_context():
        return db.session().scalar(select(Tenant.reset_keeps_two_step).where(Tenant.name == "demo"))


def _reauth_page(page) -> None:  # type: ignore[no-untyped-def]
    assert path_of(page) == "/account/reauthenticate", page.url
    (form,) = parse_forms(page.text)
    assert form["method"] == "post" and set(form["fields"]) == {"csrf_token", "password"}


# -- giving the password again ----------------------------------------------------------


@pytest.mark.parametrize("path", ["/account/mfa", "/account/access-route"])
def test_an_older_sign_in_gives_the_password_again(live, path):
    browser = _holder(live)
    assert path_of(browser.get(path)) == path  # fresh: straight in
    _later()
    page = browser.get(path)
    _reauth_page(page)

    wrong = browser.submit({"password": "Wrong-pass-1"})
    assert wrong.status_code == 401 and WRONG_JA in text_of(wrong.text)
    (failure,) = audit_events(live, "login.failure")
    assert failure.email == DEMO_HOLDER and failure.detail["consecutive"] == 1
    assert _reauthenticated_at(live) is None

    right = browser.submit({"password": DEMO_PASSWORD})
    assert path_of(right) == path and right.status_code == 200
    assert _reauthenticated_at(live) is not None
    assert [e.email for e in audit_events(live, "session.reauthenticated")] == [DEMO_HOLDER]
    # Good for five minutes, for both settings; then asked again.
    assert path_of(browser.get("/account/mfa")) == "/account/mfa"
    assert path_of(browser.get("/account/access-route")) == "/account/access-route"
    _later()
    _reauth_page(browser.get(path))


def test_a_confirmation_posted_after_five_minutes_changes_nothing(live):
    browser = _holder(live)
    browser.get("/account/access-route")
    route_confirm = browser.submit({"route": "line-only"})
    assert 'id="route-confirm"' in route_confirm.text
    browser.get("/account/mfa")
    assert 'id="mfa-confirm"' in browser.submit({"mfa": "on"}).text
    _later()
    _reauth_page(browser.submit({"confirmed": "y"}))
    browser.last = route_confirm
    _reauth_page(browser.submit({}))
    assert tenant_state(live).mfa_enabled is False
    assert tenant_state(live).access_route == "line+internet"
    assert audit_events(live, "tenant.access_route_changed", "tenant.mfa_changed") == []


def test_wrong_passwords_there_count_with_failed_logins(live, mail: MailServer):
    """The same counter as the login page: nine wrong logins elsewhere and one
    wrong password here lock the account, with the unlock mail, and end the session."""
    browser = _holder(live)
    fail_sign_ins(live, 9, DEMO_HOLDER)
    _later()
    _reauth_page(browser.get("/account/mfa"))
    locked = browser.submit({"password": "Wrong-pass-10"})
    assert locked.status_code == 401 and LOCKED_JA in text_of(locked.text)
    assert "/unlock?ticket=" in mail.inbox.wait_for(DEMO_HOLDER).body
    assert [e.email for e in audit_events(live, "account.locked")] == [DEMO_HOLDER]
    assert path_of(browser.get("/account/mfa")) == "/account/login"


def test_the_page_leads_back_only_to_a_setting(live):
    browser = _holder(live)
    _later()
    browser.get("/account/reauthenticate?next=https://attacker.example/")
    assert path_of(browser.submit({"password": DEMO_PASSWORD})) == "/account"


def test_a_forged_post_without_the_csrf_token_is_refused(live):
    browser = _holder(live)
    _later()
    answer = browser.http.post(live.url + "/account/reauthenticate", data={"password": DEMO_PASSWORD}, timeout=10)
    assert answer.status_code == 400 and _reauthenticated_at(live) is None


# -- keeping two-step verification across a password reset -----------------------------


def _keep_box(html: str) -> str:
    """The checkbox's tag."""
    start = html.index('id="reset-keeps-two-step"')
    return html[html.rindex("<input", 0, start) : html.index(">", start)]


def _save_keep(live: Live, browser: Browser, keep: bool) -> str:
    page = browser.get("/account/mfa")
    form = next(f for f in parse_forms(page.text) if f["fields"].get("stage") == "reset")
    fields = {k: v for k, v in form["fields"].items() if k != "reset_keeps_two_step"}
    if keep:
        fields["reset_keeps_two_step"] = "y"
    answer = browser.http.post(live.url + "/account/mfa", data=fields, timeout=10)
    assert answer.status_code == 200 and 'id="reset-keeps-saved"' in answer.text
    return answer.text


def test_the_holder_sets_whether_a_reset_keeps_two_step(live):
    browser = _holder(live)
    page = browser.get("/account/mfa")
    assert KEEP_JA in text_of(page.text) and "checked" not in _keep_box(page.text)
    assert KEEP_EN in text_of(browser.get("/account/mfa?lang=en").text)
    browser.get("/account/mfa?lang=ja")

    assert "checked" in _keep_box(_save_keep(live, browser, True))
    assert _reset_keeps(live) is True
    assert tenant_state(live).mfa_enabled is False  # the other setting is untouched
    assert "checked" not in _keep_box(_save_keep(live, browser, False))
    assert _reset_keeps(live) is False
    changes = [(e.email, e.detail) for e in audit_events(live, "tenant.reset_keeps_two_step_changed")]
    assert changes == [
        (DEMO_HOLDER, {"enabled": True, "via": "account_menu"}),
        (DEMO_HOLDER, {"enabled": False, "via": "account_menu"}),
    ]


def test_a_post_without_the_csrf_token_saves_nothing(live):
    browser = _holder(live)
    answer = browser.http.post(
        live.url + "/account/mfa", data={"stage": "reset", "reset_keeps_two_step": "y"}, timeout=10
    )
    assert answer.status_code == 400 and 'id="reset-keeps-error"' in answer.text
    assert _reset_keeps(live) is False


def test_it_is_offered_under_line_only_too(live):
    line_only_with(live)
    enrol_totp(live, DEMO_HOLDER)
    browser = line_browser(live)
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/account"
    _save_keep(live, browser, True)
    assert _reset_keeps(live) is True


def test_a_user_has_no_such_setting(live):
    browser = live.browser()
    assert path_of(sign_in(browser, DEMO_USER)) == "/account"
    assert browser.get("/account/mfa").status_code == 403
    answer = browser.http.post(
        live.url + "/account/mfa", data={"stage": "reset", "reset_keeps_two_step": "y"}, timeout=10
    )
    assert answer.status_code == 403 and _reset_keeps(live) is False
