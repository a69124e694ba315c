"""OpenLDAP slapd as Active Directory's stand-in, for the direct LDAP bind.

``ldap_server``: one slapd per test process (StartTLS on ``url``, LDAPS on
``ldaps_url``, a test CA in ``ca_bundle``) seeded with a service account and
alice and bob; tests add people with ``add_person`` and may ``stop`` and
``start`` it (the data stays). ``ldap_trusted``: the same, with SSL_CERT_FILE
naming its CA for this test, so the provider trusts the directory's
certificate. ``python -m tests.ldap_server`` runs it by hand.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .ca import TestCA
from .slapd import LdapServer, Person, SlapdError

__all__ = ["LdapServer", "Person", "SlapdError", "TestCA", "ldap_server", "ldap_trusted", "seed_people"]

PEOPLE = {
    "alice": ("Alice Example", "Alice-in-Wonder-9"),
    "bob": ("Bob Builder", "Bob-the-Builder-7"),
}


def seed_people(server: LdapServer) -> None:
    """alice@ and bob@ the server's domain, each with a mail address (``server.people``)."""
    for sam, (name, password) in PEOPLE.items():
        server.add_person(sam, password, name=name, mail=f"{sam}@{server.domain}")


@pytest.fixture(scope="session")
def ldap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LdapServer]:
    folder = tmp_path_factory.mktemp("slapd")
    try:
        server = LdapServer(folder / "directory", TestCA(folder / "ca")).start()
    except SlapdError as err:
        pytest.fail(str(err), pytrace=False)
    seed_people(server)
    yield server
    server.stop()


@pytest.fixture
def ldap_trusted(ldap_server: LdapServer, monkeypatch: pytest.MonkeyPatch) -> LdapServer:
    """The directory, running, its CA trusted by this process for the test."""
    if not ldap_server.running:
        ldap_server.start()
    monkeypatch.setenv("SSL_CERT_FILE", str(ldap_server.ca_bundle))
    return ldap_server
