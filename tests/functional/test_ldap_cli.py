"""`idp tenant ldap` through the installed console script, as an operator runs
it: the connection id printed (and kept when the settings are replaced), the
service account's password stored sealed, and the stored settings signing a
person in against the real directory."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import select, text

from idp import db
from idp.federation import directory
from idp.federation.ldap import authenticate
from idp.models import Directory, Tenant

from ..conftest import Live
from ..console import idp
from ..ldap_server import LdapServer
from ..mfa_steps import audit_events


def _idp(live: Live, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return idp(live.settings, "tenant", "ldap", *args, **env)


def _ok(live: Live, *args: str, **env: str) -> str:
    done = _idp(live, *args, **env)
    assert done.returncode == 0, done.stderr
    connection_id = done.stdout.strip()
    assert directory.CONNECTION_ID.fullmatch(connection_id), done.stdout
    return connection_id


def _refused(live: Live, *args: str) -> str:
    done = _idp(live, *args)
    assert done.returncode != 0 and done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stderr


def _stored(live: Live) -> Directory | None:
    with live.app.app_context():
        tenant = db.session().scalar(select(Tenant).where(Tenant.name == "demo"))
        found = directory.of_tenant(tenant.id)
        if found is not None:
            db.session().expunge(found)
        return found


def _raw_rows(live: Live) -> str:
    """Every value of the directories table as the database holds it."""
    with live.app.app_context():
        rows = db.session().execute(text("SELECT * FROM directories")).all()
    return repr(rows)


def _alice_signs_in(live: Live, ldap: LdapServer) -> str:
    with live.app.app_context():
        found = directory.of_tenant(_stored(live).tenant_id)  # type: ignore[union-attr]
        return authenticate(found, "alice@demo.example", ldap.people["alice"].password).upn


def test_connecting_a_directory_and_replacing_its_settings(live: Live, ldap_trusted: LdapServer, tmp_path: Path):
    ldap = ldap_trusted
    service = ("--bind-dn", ldap.service_dn)
    connection_id = _ok(
        live, "demo", "--url", ldap.url, "--base-dn", ldap.base_dn, *service, "--bind-password", ldap.service_password
    )
    stored = _stored(live)
    assert stored is not None and stored.connection_id == connection_id
    assert (stored.kind, stored.ldap_url, stored.ldap_base_dn, stored.ldap_bind_dn) == (
        "ldap",
        ldap.url,
        ldap.base_dn,
        ldap.service_dn,
    )
    assert (stored.ldap_user_attribute, stored.ldap_plain) == ("sAMAccountName", False)
    assert ldap.service_password not in _raw_rows(live)  # sealed, not in clear
    with live.app.app_context():
        assert directory.bind_password(stored) == ldap.service_password
    assert _alice_signs_in(live, ldap) == "alice@demo.example"

    # The password from the environment (not seen by `ps`), over LDAPS: the same connection id.
    again = _ok(
        live,
        "demo",
        "--url",
        ldap.ldaps_url,
        "--base-dn",
        ldap.base_dn,
        *service,
        IDP_LDAP_BIND_PASSWORD=ldap.service_password,
    )
    assert again == connection_id and _stored(live).ldap_url == ldap.ldaps_url  # type: ignore[union-attr]
    assert _alice_signs_in(live, ldap) == "alice@demo.example"

    # From a file, ending with a newline as editors leave it.
    secret = tmp_path / "bind-password"
    secret.write_text(ldap.service_password + "\n")
    assert _ok(
        live, "demo", "--url", ldap.url, "--base-dn", ldap.base_dn, *service, "--bind-password-file", str(secret)
    )
    assert _alice_signs_in(live, ldap) == "alice@demo.example"
    assert ldap.service_password not in _raw_rows(live)

    events = audit_events(live, "tenant.ad_set")
    assert [(e.detail["kind"], e.detail["created"], e.detail["via"]) for e in events] == [
        ("ldap", True, "cli"),
        ("ldap", False, "cli"),
        ("ldap", False, "cli"),
    ]
    assert all(ldap.service_password not in repr(e.detail) for e in events)


def test_anonymous_search_plain_ldap_another_attribute_and_a_upn_to_bind(live: Live):
    """Replacing the settings without a service account forgets its password."""
    url, base = "ldap://directory.example:389", "ou=people,dc=demo,dc=example"
    first = _ok(live, "demo", "--url", url, "--base-dn", base, "--bind-dn", "cn=svc,dc=demo,dc=example",
                "--bind-password", "Service-Secret-1")  # fmt: skip
    assert _ok(live, "demo", "--url", url, "--base-dn", base, "--plain", "--user-attribute", "uid") == first
    stored = _stored(live)
    assert stored is not None
    assert (stored.ldap_bind_dn, stored.ldap_bind_password_sealed) == (None, None)
    assert (stored.ldap_plain, stored.ldap_user_attribute) == (True, "uid")
    # AD also takes the service account's UPN as its bind name.
    upn = ("--bind-dn", "svc-idp@corp.example", "--bind-password", "Service-Secret-1")
    assert _ok(live, "demo", "--url", url, "--base-dn", base, *upn) == first
    assert _stored(live).ldap_bind_dn == "svc-idp@corp.example"  # type: ignore[union-attr]


def test_settings_that_cannot_work_are_refused_and_nothing_is_stored(live: Live, tmp_path: Path):
    base = ("--base-dn", "dc=demo,dc=example")
    secret = tmp_path / "pw"
    secret.write_text("Service-Secret-1")
    for args, said in (
        (("--url", "http://directory.example", *base), "ldaps://host[:port] or ldap://host[:port]"),
        (("--url", "ldap://directory.example:port", *base), "port is not a number"),
        (("--url", "ldaps://directory.example", *base, "--plain"), "plain LDAP is for ldap:// URLs"),
        (("--url", "ldaps://directory.example", "--base-dn", "demo.example"), "base DN is not a distinguished name"),
        (("--url", "ldaps://d.example", *base, "--bind-dn", "svc", "--bind-password", "x"), "bind DN is not a"),
        (("--url", "ldaps://directory.example", *base, "--bind-dn", "cn=svc,dc=demo,dc=example"), "needs both"),
        (("--url", "ldaps://directory.example", *base, "--bind-password", "Service-Secret-1"), "needs both"),
        (("--url", "ldaps://d.example", *base, "--user-attribute", "uid)(cn=*"), "not an attribute name"),
        (
            (
                "--url",
                "ldaps://d.example",
                *base,
                "--bind-dn",
                "cn=svc,dc=demo,dc=example",
                "--bind-password",
                "x",
                "--bind-password-file",
                str(secret),
            ),  # fmt: skip
            "give the bind password once",
        ),
    ):
        assert said in _refused(live, "demo", *args), args
    assert "no tenant named 'nowhere'" in _refused(live, "nowhere", "--url", "ldaps://d.example", *base)
    assert _stored(live) is None
