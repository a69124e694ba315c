"""Steps shared by the invitation and admin-console journeys, over plain HTTP."""

from __future__ import annotations

import requests
from sqlalchemy import select

from idp import db
from idp.cli import add_user
from idp.models import Tenant, User

from .conftest import Live
from .mfa_steps import mail_link, path_of, sign_in
from .rp import DEMO_HOLDER, DEMO_PASSWORD, Browser
from .transports import MailServer

SUBJECT = "【コワークストレージ】利用者登録のご案内"
NEW_PASSWORD = "Welcome-pass-2027"


def console(live: Live, email: str = DEMO_HOLDER, password: str = DEMO_PASSWORD) -> Browser:
    """A browser signed in as ``email`` (the demo tenant asks no second step)."""
    browser = live.browser()
    assert path_of(sign_in(browser, email, password)) == "/account"
    return browser


def invite(browser: Browser, email: str, name: str = "", role: str = "user") -> requests.Response:
    """Fill the console's invitation form; the answer after its redirect."""
    browser.get("/admin/users/new")
    return browser.submit({"email": email, "name": name, "role": role})


def open_link(live: Live, link: str) -> Browser:
    """A fresh browser on the registration page of ``link`` (its ticket moved out of the address)."""
    browser = live.browser()
    page = browser.get(link)
    assert page.status_code == 200 and path_of(page) == "/register", (page.status_code, page.url)
    return browser


def register(live: Live, link: str, password: str = NEW_PASSWORD) -> requests.Response:
    """Register with a password: the choice page, 確認, 申込完了."""
    browser = open_link(live, link)
    confirm = browser.submit({"password": password, "password_confirm": password})
    assert path_of(confirm) == "/register/confirm", confirm.url
    done = browser.submit({})
    assert 'id="register-done"' in done.text, done.text
    return done


def invitation_link(live: Live, mail: MailServer, to: str, after: int = 0) -> str:
    message = mail.inbox.wait_for(to, after=after)
    assert message.subject == SUBJECT
    return mail_link(live, mail, to, after)


def other_tenant(live: Live, name: str = "other", people: tuple[tuple[str, str], ...] = ()) -> None:
    """A second tenant with (email, role) users, each with the demo password."""
    with live.app.app_context():
        tenant = Tenant(name=name, plan="basic", mfa_enabled=False)
        db.session().add(tenant)
        db.session().flush()
        for email, role in people:
            add_user(email, tenant, role, DEMO_PASSWORD)
        db.commit()


def user_id(live: Live, email: str) -> str:
    with live.app.app_context():
        found = db.session().scalar(select(User.id).where(User.email_key == email.lower()))
        assert found is not None, email
        return found
