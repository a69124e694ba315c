"""Steps shared by the two-step and account-recovery tests, over plain HTTP and in
an app context: signing in through the pages, authenticator codes on the
provider's clock, and state prepared directly when a test is not about it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qs, urljoin, urlsplit

import pyotp
import requests
from sqlalchemy import select

from idp import clock, db
from idp.auth import login
from idp.cli import add_user
from idp.mfa import enrolment, totp
from idp.models import AuditEvent, MfaEnrolment, Role, Tenant, User

from .conftest import Live
from .rp import DEMO_PASSWORD, DEMO_USER, Browser, parse_forms
from .transports import MailServer, link_in

DEMO_ADMIN = "admin@demo.example"
PHONE = "090-1234-5678"
PHONE_E164 = "+819012345678"
CSRF = re.compile(r'(name="csrf_token"[^>]*value=")[^"]*(")')
TOTP_URI = re.compile(r'id="totp-uri"[^>]*>([^<]+)<')
RECOVERY_CODE = re.compile(r'id="recovery-code"[^>]*>([^<]+)<')


# -- the provider's clock and authenticator codes ---------------------------------


def align_to_step() -> None:
    """Move the provider's clock back to just after the start of the current TOTP
    step, so that codes computed now stay in their step for a short test.
    Backwards (by less than a step), so that tokens issued afterwards are not
    "from the future" for a relying party checking them against the real time."""
    now = clock.now().timestamp()
    clock.advance(-timedelta(seconds=now % totp.STEP - 0.5))


def totp_code(secret: str, steps: int = 0) -> str:
    """The authenticator's code ``steps`` steps away from the provider's now."""
    return pyotp.TOTP(secret).at(int(clock.now().timestamp()) + steps * totp.STEP)


def secret_from_uri(uri: str) -> str:
    assert uri.startswith("otpauth://totp/"), uri
    return parse_qs(urlsplit(uri).query)["secret"][0]


def secret_on(html: str) -> str:
    """The authenticator secret of the TOTP enrolment page, read from its otpauth:// URI."""
    match = TOTP_URI.search(html)
    assert match, "no otpauth:// URI on the page"
    return secret_from_uri(match.group(1))


def recovery_code_on(html: str) -> str:
    match = RECOVERY_CODE.search(html)
    assert match, "no recovery code on the page"
    return match.group(1)


# -- state prepared in an app context ---------------------------------------------


def user_named(email: str = DEMO_USER) -> User:
    user = db.session().scalar(select(User).where(User.email_key == User.key_for(email)))
    assert user is not None, email
    return user


def enrol_totp(live: Live, email: str = DEMO_USER, line_id: str | None = None) -> tuple[str, str]:
    """Give ``email`` a confirmed authenticator (set up over ``line_id``, if given);
    returns (secret, recovery code)."""
    secret = totp.new_secret()
    with live.app.app_context():
        recovery = enrolment.enrol(user_named(email), "totp", totp_secret=secret, line_id=line_id)
        db.commit()
    assert recovery
    return secret, recovery


def enrol_sms(live: Live, email: str = DEMO_USER, phone: str = PHONE_E164) -> str:
    """Give ``email`` a confirmed SMS number; returns the recovery code."""
    with live.app.app_context():
        recovery = enrolment.enrol(user_named(email), "sms", phone=phone)
        db.commit()
    assert recovery
    return recovery


def lock_account(live: Live, email: str = DEMO_USER) -> None:
    with live.app.app_context():
        assert login.lock(user_named(email))
        db.commit()


def user_status(live: Live, email: str = DEMO_USER) -> str:
    with live.app.app_context():
        return user_named(email).status


def is_enrolled(live: Live, email: str = DEMO_USER) -> bool:
    with live.app.app_context():
        return enrolment.confirmed(user_named(email)) is not None


def enrolment_rows(live: Live, email: str = DEMO_USER) -> list[MfaEnrolment]:
    """What the database holds of ``email``'s second factor, confirmed or not."""
    with live.app.app_context():
        user = user_named(email)
        return list(db.session().scalars(select(MfaEnrolment).where(MfaEnrolment.user_id == user.id)))


@dataclass(frozen=True)
class Event:
    event: str
    email: str | None
    source_ip: str | None
    detail: dict[str, Any]


def audit_events(live: Live, *names: str) -> list[Event]:
    """The audit events recorded so far (only those named, if any), oldest first."""
    with live.app.app_context():
        query = select(AuditEvent, User.email).outerjoin(User, User.id == AuditEvent.user_id)
        if names:
            query = query.where(AuditEvent.event.in_(names))
        rows = db.session().execute(query.order_by(AuditEvent.created_at)).all()
        return [Event(row.event, email, row.source_ip, dict(row.detail)) for row, email in rows]


# -- pages over plain HTTP ---------------------------------------------------------


def sign_in(browser: Browser, email: str = DEMO_USER, password: str = DEMO_PASSWORD) -> requests.Response:
    """Post the login page; the answer after the provider's own redirects."""
    browser.get("/login")
    return browser.submit({"email": email, "password": password})


def path_of(response: requests.Response) -> str:
    return urlsplit(response.url).path


def post_form(browser: Browser, fields: dict[str, str], form_index: int = 0) -> requests.Response:
    """Post a form of the current page without following redirects (to see where it leads)."""
    assert browser.last is not None
    form = parse_forms(browser.last.text)[form_index]
    target = urljoin(browser.last.url, form["action"] or browser.last.url)
    return browser.http.post(target, data={**form["fields"], **fields}, allow_redirects=False, timeout=10)


def finish_enrolment(browser: Browser) -> requests.Response:
    """From the recovery-code page: confirm it was saved, then continue to sign in."""
    page = browser.submit({"saved": "y"})
    assert path_of(page) == "/mfa/done", page.url
    return browser.submit({})


def clone(browser: Browser) -> Browser:
    """A second browser holding the same cookies: the same half-finished sign-in."""
    twin = Browser(browser.base)
    twin.http.cookies.update(browser.http.cookies)
    twin.last = browser.last
    return twin


def same_page(html: str, *emails: str) -> str:
    """A page's body with what legitimately differs between two requests taken out:
    the CSRF token and the email address the person typed."""
    html = CSRF.sub(r"\1-\2", html)
    for email in emails:
        html = html.replace(email, "EMAIL")
    return html


def fail_sign_ins(live: Live, times: int, email: str = DEMO_USER) -> requests.Response:
    """``times`` (at least one) wrong passwords in a row; the last answer."""
    browser = live.browser()
    answers = [sign_in(browser, email, f"Wrong-pass-{attempt}") for attempt in range(times)]
    return answers[-1]


def mail_link(live: Live, mail: MailServer, to: str = DEMO_USER, after: int = 0) -> str:
    """The one link of the mail that arrived for ``to`` (the first beyond ``after``)."""
    return link_in(mail.inbox.wait_for(to, after=after).body, live.url)


def log_out(browser: Browser) -> requests.Response:
    page = browser.get("/account")
    logout = next(i for i, form in enumerate(parse_forms(page.text)) if form["action"].endswith("/logout"))
    return browser.submit({}, form_index=logout)


def add_admin(live: Live, email: str = DEMO_ADMIN) -> None:
    """An admin of the demo tenant, with the demo password."""
    with live.app.app_context():
        tenant = db.session().scalar(select(Tenant).where(Tenant.name == "demo"))
        add_user(email, tenant, Role.ADMIN, DEMO_PASSWORD)
        db.commit()
