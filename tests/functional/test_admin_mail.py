"""An admin's メールアドレス変更 for a user (manual §2.2): the same address mails the
login-method link, a new address the email-change link, after a confirmation
page; the user finishes from the mail with the same pages as the holder, the
login-method choice without a session. Only the user's own tenant's holder and
admins may; links are used once."""

from __future__ import annotations

import pytest

from ..account_steps import (
    INVALID,
    NEW_PASSWORD,
    add_member,
    email_key_exists,
    factor_method,
    form_fields,
    link_titled,
    link_upstream,
    mail_titled,
    other_tenant_admin,
    signed_in_as,
    user_id,
)
from ..mfa_steps import DEMO_ADMIN, add_admin, audit_events, enrol_totp, path_of, post_form, sign_in
from ..rp import DEMO_HOLDER, DEMO_PASSWORD, DEMO_USER, Browser, parse_forms, text_of
from .test_single_use_races import race

METHOD_SUBJECT = "【コワークストレージ】ログイン方法の設定変更"
EMAIL_SUBJECT = "【コワークストレージ】メールアドレス変更登録"
QUESTION_JA = "指定されたメールアドレスに確認メールを送信します。よろしいですか？"
NEW = "user@new.example"


def _admin(live) -> Browser:  # type: ignore[no-untyped-def]
    add_admin(live)
    return signed_in_as(live, DEMO_ADMIN)


def _send(browser: Browser, live, address: str | None = None, target: str = DEMO_USER):  # type: ignore[no-untyped-def]
    """The screen, 送信, then OK on the confirmation page."""
    page = browser.get(f"/admin/users/{user_id(live, target)}/mail")
    assert page.status_code == 200 and form_fields(page.text)["email"] == target
    confirm = browser.submit({"email": address or target})
    assert QUESTION_JA in text_of(confirm.text) and 'id="mail-ok"' in confirm.text
    return browser.submit({})


def test_the_same_address_mails_the_login_method_link(live, mail):
    enrol_totp(live, DEMO_USER)
    sent = _send(_admin(live), live)
    assert 'data-kind="login_method"' in sent.text
    message = mail_titled(mail, DEMO_USER, METHOD_SUBJECT)
    assert "当該サービスのアカウントからログアウトした後に" in message.body and "14日間以内" in message.body
    link = link_titled(live, mail, DEMO_USER, METHOD_SUBJECT)
    assert mail.inbox.count(NEW) == 0

    user = live.browser()  # no session: the link stands in for it
    moved = user.http.get(link, allow_redirects=False, timeout=10)
    assert moved.status_code == 303 and moved.headers["Location"] == "/account/login-method/mail"
    choice = user.follow(moved)
    assert 'data-provider="password"' in choice.text and DEMO_USER in choice.text
    page = user.submit({"provider": "password"})
    assert path_of(page) == "/account/login-method/mail/password"
    done = user.submit({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert 'id="method-changed"' in done.text
    assert factor_method(live, DEMO_USER) is None
    assert path_of(sign_in(live.browser(), DEMO_USER, NEW_PASSWORD)) == "/account"
    again = live.browser().get(link)
    assert again.status_code == 400 and INVALID in again.text
    assert [e.detail["by"] for e in audit_events(live, "account.login_method_mail_sent")] == [user_id(live, DEMO_ADMIN)]


def test_a_new_address_mails_the_email_change_link(live, mail):
    browser = _admin(live)
    sent = _send(browser, live, NEW)
    assert 'data-kind="email_change"' in sent.text
    assert mail_titled(mail, NEW, EMAIL_SUBJECT)
    assert all(m.subject != METHOD_SUBJECT for m in mail.inbox.items)  # never both at once
    user = live.browser()
    user.get(link_titled(live, mail, NEW, EMAIL_SUBJECT))
    done = user.submit({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert 'id="email-changed"' in done.text
    assert mail_titled(mail, DEMO_USER, "【コワークストレージ】メールアドレス変更のお知らせ")
    assert path_of(sign_in(live.browser(), NEW, NEW_PASSWORD)) == "/account"


def test_an_upstream_user_just_confirms_the_new_address(live, mail):
    link_upstream(live, DEMO_USER, "google", "g-42")
    _send(_admin(live), live, NEW)
    user = live.browser()
    page = user.get(link_titled(live, mail, NEW, EMAIL_SUBJECT))
    assert set(form_fields(page.text)) == {"csrf_token"} and 'id="email-confirm"' in page.text
    assert not email_key_exists(live, NEW)  # opening the link (a mail scanner) changes nothing
    assert 'id="email-changed"' in user.submit({}).text
    assert email_key_exists(live, NEW)


def test_whichever_is_completed_first_kills_the_other(live, mail):
    browser = _admin(live)
    _send(browser, live)
    _send(browser, live, NEW)
    method_link = link_titled(live, mail, DEMO_USER, METHOD_SUBJECT)
    user = live.browser()
    user.get(link_titled(live, mail, NEW, EMAIL_SUBJECT))
    user.submit({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert email_key_exists(live, NEW)
    page = live.browser().get(method_link)
    assert page.status_code == 400 and INVALID in page.text


def test_the_confirmation_is_a_page_and_cancel_sends_nothing(live, mail):
    browser = _admin(live)
    page = browser.get(f"/admin/users/{user_id(live, DEMO_USER)}/mail")
    confirm = browser.submit({"email": NEW})
    assert "<script" not in confirm.text and NEW in confirm.text
    cancel = next(i for i, f in enumerate(parse_forms(confirm.text)) if f["method"] == "get")
    back = browser.submit({}, form_index=cancel)
    assert path_of(back) == path_of(page) and mail.inbox.items == []


@pytest.mark.parametrize("who", ["holder", "admin"])
def test_holders_and_admins_of_the_tenant_may(live, mail, who):
    browser = signed_in_as(live, DEMO_HOLDER) if who == "holder" else _admin(live)
    assert 'data-kind="login_method"' in _send(browser, live).text


def test_a_plain_user_is_refused(live, mail):
    add_member(live, "colleague@demo.example")
    browser = signed_in_as(live, DEMO_USER)
    assert browser.get(f"/admin/users/{user_id(live, 'colleague@demo.example')}/mail").status_code == 403


def test_another_tenants_user_is_not_found(live, mail):
    other_tenant_admin(live)
    browser = signed_in_as(live, "admin@other.example")
    assert browser.get(f"/admin/users/{user_id(live, DEMO_USER)}/mail").status_code == 404
    assert browser.get("/admin/users/no-such-user/mail").status_code == 404
    token = form_fields(browser.get("/account").text, -1)["csrf_token"]
    answer = browser.http.post(
        f"{live.url}/admin/users/{user_id(live, DEMO_USER)}/mail",
        data={"csrf_token": token, "email": DEMO_USER, "stage": "confirm"},
        allow_redirects=False,
        timeout=10,
    )
    assert answer.status_code == 404 and mail.inbox.items == []


def test_the_holder_is_not_sent_a_mail(live, mail):
    page = _admin(live).get(f"/admin/users/{user_id(live, DEMO_HOLDER)}/mail")
    assert page.status_code == 403 and 'id="mail-refused"' in page.text and "<form" not in page.text


@pytest.mark.parametrize("purpose", ["login_method", "email_change"])
def test_five_racing_uses_of_a_link_change_once(live, mail, purpose):
    browser = _admin(live)
    if purpose == "login_method":
        _send(browser, live)
        link, form_page = link_titled(live, mail, DEMO_USER, METHOD_SUBJECT), "/account/login-method/mail/password"
    else:
        _send(browser, live, NEW)
        link, form_page = link_titled(live, mail, NEW, EMAIL_SUBJECT), "/account/email/confirm"
    users = [live.browser() for _ in range(5)]
    for user in users:
        user.get(link)
        if purpose == "login_method":
            user.submit({"provider": "password"})
        assert path_of(user.last) == form_page
    fields = {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}
    answers = race(*(lambda u=u: post_form(u, fields) for u in users))
    assert all(a.status_code < 500 for a in answers), [a.status_code for a in answers]
    done = 'id="method-changed"' if purpose == "login_method" else 'id="email-changed"'
    assert sum(done in a.text for a in answers) == 1
    assert sum(a.status_code == 400 and INVALID in a.text for a in answers) == 4
    login = NEW if purpose == "email_change" else DEMO_USER
    assert path_of(sign_in(live.browser(), login, NEW_PASSWORD)) == "/account"
    assert sign_in(live.browser(), DEMO_USER, DEMO_PASSWORD).status_code == 401
