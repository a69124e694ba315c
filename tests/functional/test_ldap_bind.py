"""The direct LDAP bind against a real slapd standing in for Active Directory:
a tenant's settings stored (service password sealed), read back by the
connection id as the AD login does, and a person's name and password checked
by search-then-bind over StartTLS or LDAPS."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from idp import db
from idp.federation import directory
from idp.federation.ldap import LdapAccount, LdapError, LdapFailure, authenticate
from idp.models import Tenant

from ..conftest import Live, start_live
from ..ldap_server import LdapServer, TestCA
from ..services import silent_port

TIMEOUT = 2


@pytest.fixture
def live(database_url: str, tmp_path: Path, key_template: Path) -> Iterator[Live]:
    yield from start_live(database_url, tmp_path, key_template, IDP_AD_LDAP_TIMEOUT=str(TIMEOUT))


def connect(live: Live, url: str, base_dn: str, bind_dn: str | None = None, password: str | None = None, **kw) -> str:
    """Give the demo tenant these LDAP settings; its connection id."""
    with live.app.app_context():
        tenant = db.session().scalar(select(Tenant).where(Tenant.name == "demo"))
        found, _ = directory.set_ldap(tenant, url, base_dn, bind_dn, password, **kw)
        db.commit()
        return found.connection_id


def connect_to(live: Live, server: LdapServer, url: str | None = None, **kw) -> str:
    """The demo tenant on ``server`` through its service account."""
    return connect(live, url or server.url, server.base_dn, server.service_dn, server.service_password, **kw)


def sign_in(live: Live, connection_id: str, username: str, password: str) -> LdapAccount:
    with live.app.app_context():
        found = directory.by_connection_id(connection_id)
        assert found is not None
        return authenticate(found, username, password)


def refused(live: Live, connection_id: str, username: str, password: str) -> LdapFailure:
    with pytest.raises(LdapError) as caught:
        sign_in(live, connection_id, username, password)
    return caught.value.failure


def test_a_person_signs_in_over_starttls_and_ldaps(live: Live, ldap_trusted: LdapServer):
    alice = ldap_trusted.people["alice"]
    for url in (ldap_trusted.url, ldap_trusted.ldaps_url):
        connection_id = connect_to(live, ldap_trusted, url)
        assert sign_in(live, connection_id, "alice", alice.password) == LdapAccount(
            upn="alice@demo.example", dn=alice.dn, name="Alice Example", email="alice@demo.example"
        )


def test_the_upn_typed_in_full_and_any_case(live: Live, ldap_trusted: LdapServer):
    """The manual has people type 「ADのユーザ名@ドメイン名」; the UPN comes back lower-cased."""
    dave = ldap_trusted.add_person("dave", "Dave-the-Diver-3", name="Dave Smith", upn="Dave.Smith@Demo.Example")
    connection_id = connect_to(live, ldap_trusted)
    for typed in ("dave", "DAVE", "Dave.Smith@Demo.Example", "dave.smith@demo.example", "  dave  "):
        account = sign_in(live, connection_id, typed, dave.password)
        assert (account.upn, account.dn, account.email) == ("dave.smith@demo.example", dave.dn, None)


def test_another_attribute_to_type(live: Live, ldap_trusted: LdapServer):
    bob = ldap_trusted.people["bob"]
    connection_id = connect_to(live, ldap_trusted, user_attribute="mail")
    assert sign_in(live, connection_id, "bob@demo.example", bob.password).dn == bob.dn
    assert refused(live, connection_id, "bob", bob.password) == LdapFailure.CREDENTIALS


def test_wrong_password_and_unknown_person_look_the_same(live: Live, ldap_trusted: LdapServer, caplog):
    connection_id = connect_to(live, ldap_trusted)
    caplog.set_level(logging.DEBUG)
    outcomes = []
    for username, password in (("alice", "Not-her-Password-1"), ("nobody-here", "Not-her-Password-1")):
        with pytest.raises(LdapError) as caught:
            sign_in(live, connection_id, username, password)
        outcomes.append((caught.value.failure, str(caught.value).startswith("credentials")))
    assert outcomes == [(LdapFailure.CREDENTIALS, True)] * 2
    # Neither what was typed nor the filter built from it reaches the log.
    assert "Not-her-Password-1" not in caplog.text and "nobody-here" not in caplog.text
    assert "sAMAccountName" not in caplog.text


def test_an_empty_password_is_refused_before_any_bind(live: Live, ldap_trusted: LdapServer):
    """An LDAP simple bind with a DN and no password is an unauthenticated bind: it succeeds."""
    connection_id = connect_to(live, ldap_trusted)
    for username, password in (("alice", ""), ("", "x"), ("   ", ldap_trusted.people["alice"].password)):
        assert refused(live, connection_id, username, password) == LdapFailure.CREDENTIALS


@pytest.mark.parametrize(
    "typed",
    ["*)(uid=*", "*", "al*", "*@demo.example", "alice)(|(objectClass=*)", "alice)(sAMAccountName=*", "alice\x00", "*)"],
)
def test_filter_injection_finds_nobody(live: Live, ldap_trusted: LdapServer, typed: str):
    """With alice's own password, so a filter that matched her would sign in."""
    connection_id = connect_to(live, ldap_trusted)
    assert refused(live, connection_id, typed, ldap_trusted.people["alice"].password) == LdapFailure.CREDENTIALS


def test_a_name_that_finds_two_people_signs_in_nobody(live: Live, ldap_trusted: LdapServer):
    twin = ldap_trusted.add_person("twin", "Twin-Peaks-42", name="Twin One")
    ldap_trusted.add_person("twin", "Twin-Peaks-42", name="Twin Two", upn="twin2@demo.example", ou="service")
    connection_id = connect_to(live, ldap_trusted)
    assert refused(live, connection_id, "twin", twin.password) == LdapFailure.CREDENTIALS


def test_a_person_without_upn_is_a_setting_to_fix_after_the_password(live: Live, ldap_trusted: LdapServer):
    """Without userPrincipalName nobody can be linked; a wrong password still says only that."""
    erin = ldap_trusted.add_person("erin", "Erin-Brock-77", upn=None)
    connection_id = connect_to(live, ldap_trusted)
    assert refused(live, connection_id, "erin", "Wrong-Password-1") == LdapFailure.CREDENTIALS
    assert refused(live, connection_id, "erin", erin.password) == LdapFailure.MISCONFIGURED


def test_settings_that_do_not_work(live: Live, ldap_trusted: LdapServer):
    alice = ldap_trusted.people["alice"]
    server = ldap_trusted
    wrong_service = connect(live, server.url, server.base_dn, server.service_dn, "not-the-service-password")
    assert refused(live, wrong_service, "alice", alice.password) == LdapFailure.MISCONFIGURED
    bad_base = connect(live, server.url, f"ou=nowhere,{server.base_dn}", server.service_dn, server.service_password)
    assert refused(live, bad_base, "alice", alice.password) == LdapFailure.MISCONFIGURED
    anonymous = connect(live, server.url, server.base_dn)  # the directory refuses anonymous searches, as AD does
    assert refused(live, anonymous, "alice", alice.password) == LdapFailure.MISCONFIGURED


def test_an_unreadable_service_password_never_binds_unauthenticated(live: Live, ldap_trusted: LdapServer):
    connection_id = connect_to(live, ldap_trusted)
    with live.app.app_context():
        directory.by_connection_id(connection_id).ldap_bind_password_sealed = "sealed under another key"
        db.commit()
    assert refused(live, connection_id, "alice", ldap_trusted.people["alice"].password) == LdapFailure.MISCONFIGURED


def test_anonymous_search_where_the_directory_allows_it(live: Live, ldap_trusted: LdapServer):
    frank = ldap_trusted.add_person("frank", "Frank-Lloyd-8", ou="open")
    connection_id = connect(live, ldap_trusted.url, f"ou=open,{ldap_trusted.base_dn}")
    assert sign_in(live, connection_id, "frank", frank.password).upn == "frank@demo.example"
    assert refused(live, connection_id, "frank", "Wrong-Password-1") == LdapFailure.CREDENTIALS


def test_a_certificate_from_an_unknown_ca(live: Live, ldap_trusted: LdapServer, tmp_path: Path, monkeypatch):
    alice = ldap_trusted.people["alice"]
    monkeypatch.setenv("SSL_CERT_FILE", str(TestCA(tmp_path / "other-ca", "Someone Else").bundle))
    for url in (ldap_trusted.url, ldap_trusted.ldaps_url):
        assert refused(live, connect_to(live, ldap_trusted, url), "alice", alice.password) == LdapFailure.UNAVAILABLE


def test_a_certificate_for_another_name(live: Live, ldap_trusted: LdapServer, tmp_path: Path):
    """Signed by the trusted CA, but for ldap.other.example, not the URL's host."""
    misnamed = LdapServer(tmp_path / "misnamed", ldap_trusted.ca, tls_names=("ldap.other.example",)).start()
    try:
        person = misnamed.add_person("alice", "Alice-in-Wonder-9")
        for url in (misnamed.url, misnamed.ldaps_url):
            connection_id = connect_to(live, misnamed, url)
            assert refused(live, connection_id, "alice", person.password) == LdapFailure.UNAVAILABLE
    finally:
        misnamed.stop()


def test_plain_ldap_only_when_the_operator_says_so(live: Live, tmp_path: Path):
    """A directory without TLS: refused (no StartTLS), unless the settings say plain."""
    plain = LdapServer(tmp_path / "plain", ca=None).start()
    try:
        person = plain.add_person("alice", "Alice-in-Wonder-9")
        assert refused(live, connect_to(live, plain), "alice", person.password) == LdapFailure.UNAVAILABLE
        assert sign_in(live, connect_to(live, plain, plain=True), "alice", person.password).dn == person.dn
    finally:
        plain.stop()


def test_a_directory_that_is_down(live: Live, ldap_trusted: LdapServer):
    connection_id = connect_to(live, ldap_trusted)
    alice = ldap_trusted.people["alice"]
    ldap_trusted.stop()
    try:
        assert refused(live, connection_id, "alice", alice.password) == LdapFailure.UNAVAILABLE
    finally:
        ldap_trusted.start()
    assert sign_in(live, connection_id, "alice", alice.password).upn == "alice@demo.example"


@pytest.mark.parametrize("scheme", ["ldap", "ldaps"])
def test_a_directory_that_never_answers_gives_up_at_the_timeout(live: Live, scheme: str):
    """A port that takes connections and says nothing: the timeout ends the wait
    (without it this test would hang)."""
    with silent_port() as port:
        connection_id = connect(live, f"{scheme}://127.0.0.1:{port}", "dc=demo,dc=example")
        started = time.monotonic()
        assert refused(live, connection_id, "alice", "Alice-in-Wonder-9") == LdapFailure.UNAVAILABLE
        assert time.monotonic() - started < 3 * TIMEOUT
