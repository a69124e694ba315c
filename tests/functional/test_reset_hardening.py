"""A password reset and the links it mails, against the ways they could be abused:
a reset that clears a second factor is announced (or the tenant keeps the
factor), the hourly limit holds under racing requests, the forgot page does the
same database work for every email before it answers, tickets leave the URL
before anything could log them, and only the newest link works."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
import requests
from sqlalchemy import event, update

from idp import clock, db, migrate
from idp.models import Tenant

from ..journeys import set_tenant_mfa
from ..mfa_steps import (
    DEMO_ADMIN,
    PHONE_E164,
    add_admin,
    audit_events,
    enrol_sms,
    enrol_totp,
    fail_sign_ins,
    mail_link,
    path_of,
    sign_in,
)
from ..rp import DEMO_HOLDER, DEMO_USER, Browser, callback_params
from ..served import gunicorn
from ..transports import code_in
from .helpers import refresh

NEW_PASSWORD = "Fresh-pass-2027"
INVALID = 'id="link-invalid"'
NOTICE_SUBJECT = "【ワークストレージ】2段階認証の登録のリセット"


def _forgot(live, email: str = DEMO_USER) -> Browser:
    browser = live.browser()
    browser.get("/password/forgot")
    page = browser.submit({"email": email})
    assert 'id="forgot-sent"' in page.text
    return browser


def _reset(live, link: str, password: str = NEW_PASSWORD) -> Browser:
    browser = live.browser()
    browser.get(link)
    page = browser.submit({"password": password, "password_confirm": password})
    assert 'id="reset-done"' in page.text, page.text
    return browser


def _reset_by_mail(live, mail, after: int = 0) -> Browser:
    _forgot(live)
    return _reset(live, mail_link(live, mail, after=after))


def _keep_two_step(live) -> None:
    with live.app.app_context():
        db.session().execute(update(Tenant).where(Tenant.name == "demo").values(reset_keeps_two_step=True))
        db.commit()


def _notice_for(mail, manager: str):  # type: ignore[no-untyped-def]
    """The reset notice to ``manager``, past the notices of the test's own settings."""
    for after in range(5):
        received = mail.inbox.wait_for(manager, after=after)
        if received.subject == NOTICE_SUBJECT:
            return received
    raise AssertionError(f"no reset notice for {manager}")


def _notices(mail) -> int:  # type: ignore[no-untyped-def]
    return sum(1 for m in mail.inbox.items if m.subject == NOTICE_SUBJECT)


# -- 1. a reset that clears a second factor is announced --------------------------------


def test_clearing_an_sms_factor_tells_the_phone_and_the_managers(live, mail, sms):
    set_tenant_mfa(live, True)
    add_admin(live)
    enrol_sms(live)
    done = _reset_by_mail(live, mail).last
    assert 'id="two-step-reset"' in done.text

    notice = sms.inbox.wait_for(PHONE_E164)
    assert "2段階認証" in notice.body and "リセット" in notice.body
    assert not re.search(r"\b\d{6}\b", notice.body)  # a notice, not a code
    for manager in (DEMO_HOLDER, DEMO_ADMIN):
        told = _notice_for(mail, manager)
        assert told.subject == NOTICE_SUBJECT
        assert DEMO_USER in told.body and "--" in told.body  # Japanese, then English
    assert mail.inbox.count(DEMO_USER) == 1  # the reset mail only: the user is no manager
    assert path_of(sign_in(live.browser(), password=NEW_PASSWORD)) == "/mfa/setup/sms"


def test_clearing_an_authenticator_tells_the_managers_only(live, mail, sms):
    set_tenant_mfa(live, True)
    enrol_totp(live)
    _reset_by_mail(live, mail)
    assert _notice_for(mail, DEMO_HOLDER).subject == NOTICE_SUBJECT
    # The phone's notice would have gone before the managers' mail: there is no phone.
    assert sms.inbox.items == []


def test_no_notice_when_there_was_no_factor(live, mail, sms):
    set_tenant_mfa(live, True)
    browser = _reset_by_mail(live, mail)
    assert 'id="two-step-reset"' in browser.last.text
    browser.get("/login")  # the same connection: served after the reset's own work
    assert _notices(mail) == 0 and sms.inbox.items == []


def test_a_tenant_may_keep_the_factor_through_a_reset(live, mail, sms):
    _keep_two_step(live)
    set_tenant_mfa(live, True)
    enrol_sms(live)
    # A remembered browser and tokens from before the reset.
    rp, remembered = live.rp(), live.browser()
    assert path_of(remembered.login(rp.authorization_url())) == "/mfa/challenge"
    code = code_in(sms.inbox.wait_for(PHONE_E164).body)
    tokens = rp.exchange(callback_params(remembered.submit({"code": code, "remember": "y"})))
    assert refresh(live, tokens["refresh_token"]).status_code == 200

    done = _reset_by_mail(live, mail).last
    assert 'id="two-step-kept"' in done.text

    # The next sign-in asks for the factor the user has, not for a new one.
    clock.advance(timedelta(seconds=61))  # past the SMS resend throttle
    assert path_of(sign_in(remembered, password=NEW_PASSWORD)) == "/mfa/challenge"
    code = code_in(sms.inbox.wait_for(PHONE_E164, after=1).body)
    assert path_of(remembered.submit({"code": code})) == "/account"
    answer = refresh(live, tokens["refresh_token"])
    assert answer.status_code == 400 and answer.json()["error"] == "invalid_grant"
    # Nobody was told of a clearing: the phone got codes only, the holder nothing.
    assert all(re.search(r"\b\d{6}\b", m.body) for m in sms.inbox.items)
    assert _notices(mail) == 0


# -- 2. at most three reset mails an hour, even for racing requests ------------------------


def test_twelve_parallel_requests_send_three_mails(live, mail):
    browsers = [live.browser() for _ in range(12)]
    for browser in browsers:
        browser.get("/password/forgot")
    barrier = threading.Barrier(len(browsers))
    answers: list[int] = []

    def ask(browser: Browser) -> None:
        barrier.wait()
        answers.append(browser.submit({"email": DEMO_USER}).status_code)

    threads = [threading.Thread(target=ask, args=(b,)) for b in browsers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == [200] * 12
    # Each request's work commits its audit event before its mail goes: once all
    # twelve are recorded, the mails still to come are those recorded as sent.
    requests_ = _wait_for(lambda: audit_events(live, "password.reset_requested"), 12)
    assert sum(e.detail["sent"] for e in requests_) == 3
    mail.inbox.wait_for(DEMO_USER, after=2)
    assert mail.inbox.count(DEMO_USER) == 3


def _wait_for(read, count: int, timeout: float = 30.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while len(found := read()) < count:
        assert time.monotonic() < deadline, f"{len(found)} of {count}"
        time.sleep(0.05)
    return found


# -- 3. the forgot page's own work is the same for every email ------------------------------


def _forgot_in_process(live, email: str) -> tuple[list[str], list[str]]:
    """The SQL run before the response is handed back, and after (by closing it)."""
    client = live.app.test_client()
    page = client.get("/password/forgot").get_data(as_text=True)
    csrf = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert csrf
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # type: ignore[no-untyped-def]
        statements.append(statement)

    engine = live.app.extensions["idp.engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.post("/password/forgot", data={"csrf_token": csrf.group(1), "email": email})
        assert 'id="forgot-sent"' in response.get_data(as_text=True)
        before = list(statements)
        response.close()  # the server is done with the response: work after it runs now
        after = statements[len(before) :]
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return before, after


def test_the_page_does_the_same_queries_for_known_and_unknown_emails(live, mail):
    known_before, known_after = _forgot_in_process(live, DEMO_USER)
    unknown_before, _ = _forgot_in_process(live, "nobody@demo.example")
    assert known_before == unknown_before
    assert known_after  # the account's work happened, after the response
    assert mail.inbox.wait_for(DEMO_USER).subject == "【ワークストレージ】パスワードリセット"
    assert 'name="password"' in live.browser().get(mail_link(live, mail)).text


# -- 4. tickets leave the URL before anything logs them -------------------------------------


@pytest.mark.parametrize("purpose", ["reset", "unlock"])
def test_the_ticket_moves_from_the_url_into_the_session(live, mail, purpose):
    if purpose == "reset":
        _forgot(live)
    else:
        fail_sign_ins(live, 10)
    link = mail_link(live, mail)
    path = "/password/reset" if purpose == "reset" else "/unlock"
    assert link.startswith(f"{live.url}{path}?ticket=")

    browser = live.browser()
    moved = browser.http.get(link, allow_redirects=False, timeout=10)
    assert moved.status_code == 303
    assert moved.headers["Location"] == path  # nothing of the query left
    page = browser.follow(moved)
    assert page.status_code == 200 and path_of(page) == path and "ticket" not in page.url

    stranger = Browser(live.url)  # the bare address, without the cookie that holds the ticket
    refused = stranger.get(path)
    assert refused.status_code == 400 and INVALID in refused.text

    if purpose == "reset":
        done = browser.submit({"password": NEW_PASSWORD, "password_confirm": NEW_PASSWORD})
        assert 'id="reset-done"' in done.text
        assert path_of(sign_in(live.browser(), password=NEW_PASSWORD)) == "/account"
    else:
        assert 'id="unlocked"' in browser.submit({}).text
        assert path_of(sign_in(live.browser())) == "/account"
    again = browser.get(path)  # the ticket was used: the session holds nothing more
    assert again.status_code == 400 and INVALID in again.text


def test_the_access_log_holds_no_ticket(tmp_path, key_template):
    """The real server with the shipped settings: its access log lines leave out queries."""
    database = f"sqlite:///{tmp_path}/idp.sqlite3"
    engine = db.make_engine(database)
    migrate.upgrade(engine)
    engine.dispose()
    with gunicorn(database, tmp_path, key_template) as served:
        base = served.live.url
        tickets = {"/password/reset": "Rst" + "x" * 40, "/unlock": "Unl" + "y" * 40}
        for path, ticket in tickets.items():
            moved = requests.get(f"{base}{path}?ticket={ticket}", allow_redirects=False, timeout=10)
            assert moved.status_code == 303
            followed = requests.get(f"{base}{path}?lang=en&ticket={ticket}", timeout=10)
            assert followed.status_code == 400 and INVALID in followed.text
    text = served.log_text()
    for path, ticket in tickets.items():
        assert f'"GET {path}" 303' in text, text
        assert ticket not in text and "ticket=" not in text, text


# -- 5. only the newest link works -----------------------------------------------------------


def test_a_newer_reset_link_replaces_the_older(live, mail):
    _forgot(live)
    first = mail_link(live, mail)
    _forgot(live)
    second = mail_link(live, mail, after=1)
    stale = live.browser().get(first)
    assert stale.status_code == 400 and INVALID in stale.text
    _reset(live, second)
    assert path_of(sign_in(live.browser(), password=NEW_PASSWORD)) == "/account"
