"""Active Directory without ADFS (manual §1.3): the connection id, then our own
page asks the directory's user name and password and binds against OpenLDAP's
slapd (tests/ldap_server). Tokens carry amr ldap; wrong passwords count toward
the lock of the person the account is linked to; filter metacharacters find
nobody; a directory that is down is a page."""

from __future__ import annotations

import re

from sqlalchemy import select

from idp import db
from idp.federation import directory
from idp.models import Tenant

from ..ad_steps import link_ad, signed_out
from ..ldap_server import PEOPLE, LdapServer
from ..mfa_steps import audit_events, path_of, user_status
from ..rp import DEMO_USER, Browser, callback_params, text_of
from .test_ad_saml import parse_button

ALICE_PASSWORD = PEOPLE["alice"][1]
WRONG = "ユーザ名またはパスワードが正しくありません"


def _connect(live, ldap: LdapServer) -> str:  # type: ignore[no-untyped-def]
    """The demo tenant binds against slapd; the demo user is linked to alice's UPN."""
    with live.app.app_context():
        tenant = db.session().scalar(select(Tenant).where(Tenant.name == "demo"))
        found, _ = directory.set_ldap(tenant, ldap.url, ldap.base_dn, ldap.service_dn, ldap.service_password)
        connection_id = found.connection_id
        db.commit()
    link_ad(live, DEMO_USER, connection_id, upn=f"alice@{ldap.domain}")
    return connection_id


def _ldap_page(browser: Browser, connection_id: str, path: str = "/login/ad"):  # type: ignore[no-untyped-def]
    page = browser.get(path)
    if 'name="connection_id"' in page.text:
        page = browser.submit({"connection_id": connection_id})
    assert path_of(page) == f"/login/ad/{connection_id}/ldap", page.text[:500]
    return page


def test_a_person_signs_in_with_the_directory_password_and_tokens_say_ldap(live, ldap_trusted: LdapServer) -> None:
    connection_id = _connect(live, ldap_trusted)
    rp, browser = live.rp(), live.browser()
    page = browser.get(rp.authorization_url())
    _ldap_page(browser, connection_id, parse_button(page.text))
    final = browser.submit({"username": "alice", "password": ALICE_PASSWORD})
    claims = rp.verify_id_token(rp.exchange(callback_params(final))["id_token"])
    assert claims["amr"] == ["ldap"] and claims["email"] == DEMO_USER
    (success,) = [e for e in audit_events(live, "login.success") if e.email == DEMO_USER]
    assert (success.detail["method"], success.detail["subject"]) == ("ldap", f"alice@{ldap_trusted.domain}")

    # The next time this browser goes straight to the directory's page; the UPN typed in full works too.
    again = live.rp()
    browser.get("/logout")
    page = browser.get(again.authorization_url(prompt="login"))
    _ldap_page(browser, connection_id, parse_button(page.text))
    final = browser.submit({"username": f"ALICE@{ldap_trusted.domain}", "password": ALICE_PASSWORD})
    assert again.verify_id_token(again.exchange(callback_params(final))["id_token"])["amr"] == ["ldap"]


def test_wrong_passwords_count_toward_the_lock_and_injections_find_nobody(live, ldap_trusted: LdapServer) -> None:
    connection_id = _connect(live, ldap_trusted)
    browser = live.browser()
    for typed in ("*)(sAMAccountName=*", "*", "alice)(|(objectClass=*)", "bob"):
        _ldap_page(browser, connection_id)
        answer = browser.submit({"username": typed, "password": ALICE_PASSWORD})
        assert answer.status_code == 401 and WRONG in text_of(answer.text), typed
        assert signed_out(browser)
    assert user_status(live) == "active"

    for _ in range(10):
        _ldap_page(browser, connection_id)
        answer = browser.submit({"username": "alice", "password": "not-her-password"})
        assert answer.status_code == 401
    assert user_status(live) == "locked"
    _ldap_page(browser, connection_id)
    locked = browser.submit({"username": "alice", "password": ALICE_PASSWORD})
    assert locked.status_code == 401 and signed_out(browser)
    assert "ブロック" in text_of(locked.text)


def test_a_directory_that_is_down_is_a_page(live, ldap_trusted: LdapServer) -> None:
    connection_id = _connect(live, ldap_trusted)
    browser = live.browser()
    _ldap_page(browser, connection_id)
    ldap_trusted.stop()
    try:
        down = browser.submit({"username": "alice", "password": ALICE_PASSWORD})
    finally:
        ldap_trusted.start()
    assert down.status_code == 502 and 'id="error-id"' in down.text
    assert re.search(r'data-failure="unavailable"', down.text)
    assert signed_out(browser)
