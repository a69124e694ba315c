"""OpenLDAP slapd standing in for Active Directory: AD's attribute names
(ad.schema), people found by ``(&(objectClass=user)(sAMAccountName=…))``,
a service account that may search, StartTLS and LDAPS with a test CA.

The database is seeded offline with slapadd; slapd runs in the foreground
(``-d 0``) so the child's pid is slapd's and stopping it is one signal."""

from __future__ import annotations

import base64
import hashlib
import secrets
import subprocess
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import ldap3

from ..services import free_port, port_open, stop_process
from .ca import TestCA

SCHEMA = Path(__file__).with_name("ad.schema")
SYSTEM_SCHEMA = Path("/etc/ldap/schema")
NORMAL_ACCOUNT = 512  # userAccountControl of an enabled account


def ssha(password: str) -> str:
    """userPassword as slapd stores it ({SSHA}: salted SHA-1, slapd's default scheme)."""
    salt = secrets.token_bytes(8)
    return "{SSHA}" + base64.b64encode(hashlib.sha1(password.encode() + salt).digest() + salt).decode()


class SlapdError(RuntimeError):
    pass


@dataclass(frozen=True)
class Person:
    """A person of the directory and what they type to sign in."""

    sam: str
    password: str
    dn: str
    upn: str | None
    name: str
    mail: str | None


class LdapServer:
    """One slapd on free loopback ports; ``start``/``stop`` keep its data, so a
    test can take the directory down and bring it back."""

    def __init__(
        self,
        folder: Path,
        ca: TestCA | None,
        base_dn: str = "dc=demo,dc=example",
        domain: str = "demo.example",
        tls_names: tuple[str, ...] = ("127.0.0.1", "localhost"),
        port: int | None = None,
        ldaps_port: int | None = None,
    ) -> None:
        self.folder, self.ca, self.base_dn, self.domain = folder, ca, base_dn, domain
        self.port, self.ldaps_port = port or free_port(), ldaps_port or free_port()
        self.root_dn, self.root_password = f"cn=admin,{base_dn}", secrets.token_urlsafe(12)
        self.service_dn, self.service_password = f"cn=svc-idp,ou=service,{base_dn}", secrets.token_urlsafe(12)
        self._tls = ca.issue(list(tls_names), stem=f"slapd-{self.port}") if ca else None
        self._process: subprocess.Popen[bytes] | None = None
        self.people: dict[str, Person] = {}  # by sAMAccountName, as added
        folder.mkdir(parents=True, exist_ok=True)
        self._conf = self._write_conf()
        self._seed()

    # -- where clients connect --------------------------------------------------

    @property
    def url(self) -> str:
        """ldap://: StartTLS is offered when the server has a certificate."""
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        if not self._tls:
            raise SlapdError("this directory has no certificate, so no LDAPS")
        return f"ldaps://127.0.0.1:{self.ldaps_port}"

    @property
    def ca_bundle(self) -> Path | None:
        """The CA file to name in SSL_CERT_FILE for the provider to trust this directory."""
        return self.ca.bundle if self.ca else None

    # -- running ------------------------------------------------------------------

    def start(self) -> LdapServer:
        listeners = self.url + "/" + (f" ldaps://127.0.0.1:{self.ldaps_port}/" if self._tls else "")
        log = (self.folder / "slapd.log").open("ab")
        self._process = subprocess.Popen(
            ["slapd", "-f", str(self._conf), "-h", listeners, "-d", "0"], stdout=log, stderr=log
        )
        deadline = time.monotonic() + 10
        while not port_open("127.0.0.1", self.port):
            if self._process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise SlapdError(f"slapd did not start; see {self.folder / 'slapd.log'}")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        if self._process is not None:
            stop_process(self._process)
            self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    # -- people -------------------------------------------------------------------

    def add_person(
        self,
        sam: str,
        password: str,
        *,
        name: str | None = None,
        mail: str | None = None,
        upn: str | None = "",
        ou: str = "people",
        extra: dict[str, str | list[str]] | None = None,
    ) -> Person:
        """Add an AD-like person, replacing one of the same name and unit (the
        directory outlives a test); ``upn`` "" gives ``sam@domain``, None leaves it out."""
        name = name or sam.capitalize()
        dn = f"cn={ldap3.utils.dn.escape_rdn(name)},ou={ou},{self.base_dn}"
        attributes: dict[str, str | list[str] | bytes] = {
            "cn": name,
            "sn": name.split()[-1],
            "displayName": name,
            "sAMAccountName": sam,
            "userAccountControl": str(NORMAL_ACCOUNT),
            "objectGUID": uuid.uuid4().bytes,
            "userPassword": ssha(password),
            **(extra or {}),
        }
        if mail:
            attributes["mail"] = mail
        if upn is not None:
            upn = upn or f"{sam}@{self.domain}"
            attributes["userPrincipalName"] = upn
        # The test's own writes go as the root DN over loopback without TLS.
        with ldap3.Connection(self.url, self.root_dn, self.root_password, auto_bind=True) as conn:
            conn.delete(dn)
            if not conn.add(dn, ["inetOrgPerson", "user"], attributes):
                raise SlapdError(f"directory refused {dn}: {conn.result['description']}")
        self.people[sam] = Person(sam, password, dn, upn, name, mail)
        return self.people[sam]

    # -- configuration --------------------------------------------------------------

    def _write_conf(self) -> Path:
        (self.folder / "db").mkdir(exist_ok=True)
        tls = ""
        if self._tls:
            tls = f"TLSCertificateFile {self._tls[0]}\nTLSCertificateKeyFile {self._tls[1]}\n"
        conf = self.folder / "slapd.conf"
        conf.write_text(
            f"""\
include {SYSTEM_SCHEMA}/core.schema
include {SYSTEM_SCHEMA}/cosine.schema
include {SYSTEM_SCHEMA}/inetorgperson.schema
include {SCHEMA}
pidfile {self.folder}/slapd.pid
argsfile {self.folder}/slapd.args
modulepath /usr/lib/ldap
moduleload back_mdb
{tls}
database mdb
suffix "{self.base_dn}"
rootdn "{self.root_dn}"
rootpw {self.root_password}
directory {self.folder}/db
index objectClass,sAMAccountName,userPrincipalName eq
# As in AD: passwords only for binding, nothing for anonymous searches,
# except the ou=open branch (for a directory set up without a service account).
access to attrs=userPassword
    by anonymous auth
    by * none
access to dn.subtree="ou=open,{self.base_dn}"
    by * read
access to *
    by users read
    by anonymous auth
"""
        )
        return conf

    def _seed(self) -> None:
        top = self.base_dn.split(",")[0].split("=")[1]
        entries = [
            f"dn: {self.base_dn}\nobjectClass: dcObject\nobjectClass: organization\ndc: {top}\no: {self.domain}\n",
            *(f"dn: ou={ou},{self.base_dn}\nobjectClass: organizationalUnit\nou: {ou}\n" for ou in _UNITS),
            f"dn: {self.service_dn}\nobjectClass: inetOrgPerson\ncn: svc-idp\nsn: svc-idp\n"
            f"userPassword: {ssha(self.service_password)}\n",
        ]
        ldif = self.folder / "seed.ldif"
        ldif.write_text("\n".join(entries))
        done = subprocess.run(["slapadd", "-f", str(self._conf), "-l", str(ldif)], capture_output=True, text=True)
        if done.returncode != 0:
            raise SlapdError(f"slapadd failed: {done.stderr.strip()}")


_UNITS = ("people", "service", "open")
