"""メールアドレス変更 (manual §2.1 (2)): the basic plan's holder asks from the
account menu; the mail to the new address carries one link (14 days, once);
its page sets a new password for a password user; then the address changes,
two-step verification is reset, every other session ends and the old address
is told. Nothing tells whether an address belongs to someone else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from idp import clock

from ..account_steps import (
    INVALID,
    NEW_PASSWORD,
    add_member,
    email_key_exists,
    factor_method,
    form_fields,
    holder,
    mail_titled,
    make_trial,
    signed_in_as,
)
from ..journeys import set_tenant_mfa
from ..mfa_steps import (
    align_to_step,
    audit_events,
    enrol_totp,
    mail_link,
    path_of,
    post_form,
    same_page,
    sign_in,
    totp_code,
)
from ..rp import DEMO_HOLDER, DEMO_PASSWORD, DEMO_USER, Browser, text_of
from .test_single_use_races import race

NEW = "owner@new.example"
REQUEST_SUBJECT = "【コワークストレージ】メールアドレス変更登録"
NOTICE_SUBJECT = "【コワークストレージ】メールアドレス変更のお知らせ"


def _ask(browser: Browser, address: str, confirm: str | None = None):  # type: ignore[no-untyped-def]
    page = browser.get("/account/email")
    assert path_of(page) == "/account/email", page.url
    return browser.submit({"email": address, "email_confirm": address if confirm is None else confirm})


def _confirm_with(live, link: str, password: str = NEW_PASSWORD, confirm: str | None = None) -> Browser:
    browser = live.browser()
    browser.get(link)
    browser.submit({"password": password, "password_confirm": password if confirm is None else confirm})
    return browser


def test_the_holder_changes_their_address(live, mail):
    set_tenant_mfa(live, True)
    secret, _recovery = enrol_totp(live, DEMO_HOLDER)
    align_to_step()
    browser, other = live.browser(), live.browser()
    for b, steps in ((browser, 0), (other, 1)):
        assert path_of(sign_in(b, DEMO_HOLDER)) == "/mfa/challenge"
        assert path_of(b.submit({"code": totp_code(secret, steps)})) == "/account"

    sent = _ask(browser, NEW)
    assert 'id="email-sent"' in sent.text and NEW in sent.text
    message = mail.inbox.wait_for(NEW)
    assert message.subject == REQUEST_SUBJECT and "14日間以内" in message.body
    link = mail_link(live, mail, to=NEW)

    confirm = live.browser()
    moved = confirm.http.get(link, allow_redirects=False, timeout=10)
    assert (
        moved.status_code == 303 and moved.headers["Location"] == "/account/email/confirm"
    )  # the ticket leaves the URL
    page = confirm.follow(moved)
    assert 'id="new-email"' in page.text and NEW in page.text
    assert set(form_fields(page.text)) == {"csrf_token", "password", "password_confirm"}
    weak = confirm.submit({"password": "abc", "password_confirm": "abc"})
    assert "8文字以上" in weak.text and not email_key_exists(live, NEW)
    done = confirm.submit({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert 'id="email-changed"' in done.text

    assert NEW in mail_titled(mail, DEMO_HOLDER, NOTICE_SUBJECT).body
    assert email_key_exists(live, NEW) and not email_key_exists(live, DEMO_HOLDER)
    assert factor_method(live, NEW) is None  # two-step verification reset (manual §2.1 (2) (4))
    for b in (browser, other):  # every session of the old credentials ended
        assert path_of(b.get("/account")) == "/account/login"
    assert sign_in(live.browser(), DEMO_HOLDER, DEMO_PASSWORD).status_code == 401
    assert sign_in(live.browser(), NEW, DEMO_PASSWORD).status_code == 401
    assert path_of(sign_in(live.browser(), NEW, NEW_PASSWORD)) == "/mfa/setup/sms"  # enrols again
    assert [e.email for e in audit_events(live, "account.email_changed")] == [NEW]


def test_the_link_is_used_once(live, mail):
    _ask(holder(live), NEW)
    link = mail_link(live, mail, to=NEW)
    assert 'id="email-changed"' in _confirm_with(live, link).last.text
    again = live.browser().get(link)
    assert again.status_code == 400 and INVALID in again.text


@pytest.mark.parametrize(("age", "valid"), [(timedelta(days=14, minutes=-1), True), (timedelta(days=14), False)])
def test_the_link_lasts_14_days(live, mail, age, valid):
    _ask(holder(live), NEW)
    link = mail_link(live, mail, to=NEW)
    clock.advance(age)
    page = live.browser().get(link)
    assert (page.status_code, INVALID in page.text) == ((200, False) if valid else (400, True))


def test_only_the_newest_request_counts(live, mail):
    browser = holder(live)
    _ask(browser, NEW)
    _ask(browser, "second@new.example")
    first, second = mail_link(live, mail, to=NEW), mail_link(live, mail, to="second@new.example")
    assert live.browser().get(first).status_code == 400
    assert 'id="email-changed"' in _confirm_with(live, second).last.text


def test_an_address_in_use_answers_like_any_failure(live, mail):
    """The request page and the mail are the same for a taken address; the link then
    fails exactly like a used one, and nothing changes."""
    browser = holder(live)
    free = _ask(browser, NEW)
    taken = _ask(browser, DEMO_USER)
    assert (taken.status_code, same_page(taken.text, DEMO_USER)) == (free.status_code, same_page(free.text, NEW))
    taken_link, free_link = mail_link(live, mail, to=DEMO_USER), mail_link(live, mail, to=NEW)
    assert mail.inbox.wait_for(DEMO_USER).subject == REQUEST_SUBJECT

    dead = live.browser().get(free_link)  # the older request's link: dead since the newer one was sent
    refused = live.browser().get(taken_link)
    assert (refused.status_code, refused.text) == (dead.status_code, dead.text)
    assert refused.status_code == 400 and INVALID in refused.text and DEMO_USER not in refused.text
    assert email_key_exists(live, DEMO_HOLDER) and path_of(sign_in(live.browser(), DEMO_USER)) == "/account"


def test_an_address_taken_after_the_mail_fails_at_confirmation(live, mail):
    _ask(holder(live), NEW)
    link = mail_link(live, mail, to=NEW)
    page = live.browser()
    page.get(link)
    add_member(live, NEW)
    answer = page.submit({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
    assert answer.status_code == 400 and INVALID in answer.text
    assert email_key_exists(live, DEMO_HOLDER)


@pytest.mark.parametrize(
    ("typed", "confirm", "message"),
    [
        ("not-an-address", "not-an-address", "メールアドレスを正しく入力してください。"),
        (NEW, "other@new.example", "確認用メールアドレスが一致しません。"),
        ("Holder@Demo.example", "Holder@Demo.example", "現在ご登録のメールアドレスです。"),
    ],
)
def test_the_request_page_names_what_to_fix(live, mail, typed, confirm, message):
    page = _ask(holder(live), typed, confirm)
    assert page.status_code == 400 and message in text_of(page.text)
    assert mail.inbox.items == []


def test_only_the_basic_plans_holder_may(live, mail):
    user = signed_in_as(live, DEMO_USER)
    assert user.get("/account/email").status_code == 403
    make_trial(live)
    assert holder(live).get("/account/email").status_code == 403  # manual §2: not on a trial


def test_an_older_sign_in_gives_the_password_again(live, mail):
    browser = holder(live)
    clock.advance(timedelta(minutes=6))
    page = browser.get("/account/email")
    assert path_of(page) == "/account/reauthenticate"
    answer = post_form(browser, {"password": DEMO_PASSWORD})
    assert answer.is_redirect
    assert path_of(browser.get("/account/email")) == "/account/email"


def test_five_racing_confirmations_change_it_once(live, mail):
    _ask(holder(live), NEW)
    link = mail_link(live, mail, to=NEW)
    browsers = [live.browser() for _ in range(5)]
    for b in browsers:
        assert b.get(link).status_code == 200
    answers = race(
        *(lambda b=b: post_form(b, {"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD}) for b in browsers)
    )
    assert all(a.status_code < 500 for a in answers), [a.status_code for a in answers]
    assert sum('id="email-changed"' in a.text for a in answers) == 1
    assert sum(a.status_code == 400 and INVALID in a.text for a in answers) == 4
    assert mail_titled(mail, DEMO_HOLDER, NOTICE_SUBJECT) and mail.inbox.count(DEMO_HOLDER) == 1  # one notice


def test_at_most_five_requests_an_hour(live, mail):
    browser = holder(live)
    for n in range(5):
        assert 'id="email-sent"' in _ask(browser, f"n{n}@new.example").text
    refused = _ask(browser, "n5@new.example")
    assert refused.status_code == 429 and "1時間後に再度お試しください" in text_of(refused.text)
    clock.advance(timedelta(hours=1))
    assert 'id="email-sent"' in _ask(holder(live), "n5@new.example").text
