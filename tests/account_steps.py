"""Steps shared by the email-address, login-method and device-change tests: state
prepared in an app context (a trial plan, an upstream account, another tenant),
and what a person or an admin does on the pages."""

from __future__ import annotations

from datetime import timedelta

import requests
from sqlalchemy import select

from idp import clock, db
from idp.cli import add_user
from idp.mfa import enrolment
from idp.models import IdentityKind, LoginIdentity, Plan, Role, Tenant, User

from .conftest import Live
from .mfa_steps import path_of, sign_in, user_named
from .rp import DEMO_HOLDER, DEMO_PASSWORD, Browser, parse_forms
from .transports import MailServer, Received, link_in

NEW_PASSWORD = "Fresh-pass-2027"
INVALID = 'id="link-invalid"'


def holder(live: Live) -> Browser:
    """The demo holder, signed in (two-step verification is off for the demo tenant)."""
    browser = live.browser()
    assert path_of(sign_in(browser, DEMO_HOLDER)) == "/account"
    return browser


def signed_in_as(live: Live, email: str, password: str = DEMO_PASSWORD) -> Browser:
    browser = live.browser()
    assert path_of(sign_in(browser, email, password)) == "/account"
    return browser


def user_id(live: Live, email: str) -> str:
    with live.app.app_context():
        return user_named(email).id


def email_key_exists(live: Live, email: str) -> bool:
    with live.app.app_context():
        return db.session().scalar(select(User.id).where(User.email_key == User.key_for(email))) is not None


def factor_method(live: Live, email: str) -> str | None:
    with live.app.app_context():
        factor = enrolment.confirmed(user_named(email))
        return factor.method if factor else None


def make_trial(live: Live, tenant: str = "demo") -> None:
    with live.app.app_context():
        row = db.session().scalar(select(Tenant).where(Tenant.name == tenant))
        row.plan, row.trial_ends_at = Plan.TRIAL, clock.now() + timedelta(days=10)
        db.commit()


def link_upstream(live: Live, email: str, provider: str, subject: str) -> None:
    """``email`` signs in with an upstream account instead of a password."""
    with live.app.app_context():
        user = user_named(email)
        user.identities[:] = [LoginIdentity(kind=IdentityKind.UPSTREAM, provider=provider, subject=subject)]
        db.commit()


def other_tenant_admin(live: Live, email: str = "admin@other.example") -> None:
    """An admin (with the demo password) of a tenant other than the demo one."""
    with live.app.app_context():
        tenant = Tenant(name="other", plan=Plan.BASIC, mfa_enabled=False)
        db.session().add(tenant)
        db.session().flush()
        add_user(email, tenant, Role.ADMIN, DEMO_PASSWORD)
        db.commit()


def form_fields(html: str, index: int = 0) -> dict[str, str]:
    return parse_forms(html)[index]["fields"]


def post(browser: Browser, path: str, fields: dict[str, str]) -> requests.Response:
    """Post to ``path`` with the CSRF token of the browser's current page, following redirects on the provider."""
    assert browser.last is not None
    token = next(f["fields"]["csrf_token"] for f in parse_forms(browser.last.text) if "csrf_token" in f["fields"])
    answer = browser.http.post(
        browser.base + path, data={"csrf_token": token, **fields}, allow_redirects=False, timeout=10
    )
    return browser.follow(answer)


def mail_titled(mail: MailServer, to: str, subject: str) -> Received:
    """The first mail to ``to`` with ``subject`` (others, such as policy notices, may come first)."""
    for after in range(20):
        message = mail.inbox.wait_for(to, after=after)
        if message.subject == subject:
            return message
    raise AssertionError(f"no mail {subject!r} for {to}")


def link_titled(live: Live, mail: MailServer, to: str, subject: str) -> str:
    return link_in(mail_titled(mail, to, subject).body, live.url)


def add_member(live: Live, email: str, role: str = Role.USER, password: str = DEMO_PASSWORD) -> None:
    """Another member of the demo tenant."""
    with live.app.app_context():
        add_user(email, user_named(DEMO_HOLDER).tenant, role, password)
        db.commit()
