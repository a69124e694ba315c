"""A direct bind against a tenant's directory (LDAP instead of ADFS).

The interface the Active Directory pages use; see ``authenticate``. The usual
way with Active Directory (and the only one with OpenLDAP, which cannot bind
by UPN): search for the person with the service account (or anonymously),
then bind as the DN found with the password typed.

TLS always, unless the operator chose ``plain``: ``ldaps://`` speaks TLS from
the first byte, ``ldap://`` asks for StartTLS before anything is sent. The
server's certificate is checked against the system's CA bundle (or the file
``SSL_CERT_FILE`` names) and its name against the URL's host.

Nothing a person typed (user name, password) reaches a log line or an
exception's text: the filter is built from it, so it is left out as well."""

from __future__ import annotations

import logging
import re
import secrets
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from flask import current_app

from ..models import Directory
from .directory import bind_password

# ldap3 is imported where it is used: a worker that never binds to a directory
# does not carry it.
if TYPE_CHECKING:
    import ldap3

log = logging.getLogger("idp.federation.ldap")

SCHEMES = {"ldap": 389, "ldaps": 636}
UPN = "userPrincipalName"
# What may name the attribute people type (it goes into the filter as is).
ATTRIBUTE = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,63}")
AD_LOGON = re.compile(r"[^@=,\s]+@[^@=,\s]+")
_READ = [UPN, "displayName", "cn", "mail"]
# Result codes that mean the directory cannot answer now (RFC 4511 §A.1), not a setting.
_BUSY = {"timeLimitExceeded", "adminLimitExceeded", "busy", "unavailable"}


class LdapFailure(StrEnum):
    CREDENTIALS = "credentials"  # no such person, or the password is wrong (never told apart)
    UNAVAILABLE = "unavailable"  # the directory is down, slow or refuses TLS
    MISCONFIGURED = "misconfigured"  # the tenant's settings do not work (service account refused, bad base DN)


class LdapError(Exception):
    def __init__(self, failure: LdapFailure, detail: str = "") -> None:
        super().__init__(f"{failure.value}: {detail}")
        self.failure = failure
        self.detail = detail


@dataclass(frozen=True)
class LdapAccount:
    upn: str  # userPrincipalName, lower-cased: what an AD login identity is linked by
    dn: str
    name: str | None
    email: str | None


def authenticate(directory: Directory, username: str, password: str) -> LdapAccount:
    """The directory's person ``username`` once a bind as them with ``password`` succeeded.

    ``username`` is matched against the tenant's attribute (sAMAccountName by
    default) or, typed in full as the manual asks (「ADのユーザ名@ドメイン名」),
    against userPrincipalName. Nobody, several people or a wrong password give
    the same CREDENTIALS after the same work: when nobody is found, a bind as a
    DN that cannot exist takes the place of the person's bind."""
    from ldap3.core.exceptions import LDAPException

    username = username.strip()
    if not username or not password:
        # A simple bind with a name and no password is an unauthenticated bind,
        # which directories answer with success (RFC 4513 §5.1.2).
        raise LdapError(LdapFailure.CREDENTIALS, "no user name or no password")
    try:
        with _connection(directory) as conn:
            entry = _find(conn, directory, username)
            if entry is None:
                _bind(conn, f"cn={secrets.token_hex(16)},{directory.ldap_base_dn}", secrets.token_urlsafe(24))
                raise LdapError(LdapFailure.CREDENTIALS, "no such person, or more than one")
            if not _bind(conn, entry["dn"], password):
                raise LdapError(LdapFailure.CREDENTIALS, "password refused")
            return _account(entry)
    except LdapError as e:
        level = logging.INFO if e.failure == LdapFailure.CREDENTIALS else logging.WARNING
        log.log(level, "ldap %s: %s", directory.connection_id, e)
        raise
    except LDAPException as e:
        # Socket, timeout and TLS errors; ldap3's texts name the host and the
        # OS's or OpenSSL's reason, never what was sent.
        failure = LdapError(LdapFailure.UNAVAILABLE, f"{type(e).__name__}: {str(e)[:300]}")
        log.warning("ldap %s: %s", directory.connection_id, failure)
        raise failure from None


def _timeout() -> int:
    return current_app.extensions["idp.settings"].ldap_timeout


def endpoint(url: str) -> tuple[str, int, bool]:
    """(host, port, ldaps) of ldap://host[:port] or ldaps://host[:port]; ValueError otherwise."""
    parts = urlsplit(url or "")
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError("the directory URL must be ldaps://host[:port] or ldap://host[:port]")
    try:
        port = parts.port or SCHEMES[parts.scheme]
    except ValueError:
        raise ValueError("the directory URL's port is not a number") from None
    return parts.hostname, port, parts.scheme == "ldaps"


class SettingsError(ValueError):
    """Settings that cannot work; ``reason`` names the one (the pages word it)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def check_settings(url: str, base_dn: str, bind_dn: str | None, user_attribute: str, plain: bool) -> None:
    """SettingsError naming the first setting that cannot work, before any is stored."""
    from ldap3.core.exceptions import LDAPException
    from ldap3.utils.dn import parse_dn

    try:
        _, _, ldaps = endpoint(url)
    except ValueError as e:
        raise SettingsError("url", str(e)) from None
    if plain and ldaps:
        raise SettingsError("plain", "plain LDAP is for ldap:// URLs; ldaps:// is always TLS")
    if not base_dn:
        raise SettingsError("base_dn", "the base DN is empty")
    for reason, label, dn in (("base_dn", "base DN", base_dn), ("bind_dn", "bind DN", bind_dn)):
        if dn is None or (reason == "bind_dn" and AD_LOGON.fullmatch(dn)):
            continue  # AD also binds by a service account's UPN
        try:
            parse_dn(dn)
        except LDAPException:
            raise SettingsError(reason, f"the {label} is not a distinguished name: {dn!r}") from None
    if not ATTRIBUTE.fullmatch(user_attribute):
        raise SettingsError("user_attribute", f"the user attribute is not an attribute name: {user_attribute!r}")


def server_for(url: str, plain: bool = False) -> ldap3.Server:
    """The directory at ``url``, TLS verified unless ``plain`` (ldap:// only)."""
    import ldap3

    try:
        host, port, ldaps = endpoint(url)
    except ValueError as e:
        raise LdapError(LdapFailure.MISCONFIGURED, str(e)) from None
    # version=None: ldap3 builds ssl.create_default_context (system CAs, SSL_CERT_FILE,
    # TLS 1.2 at least) and checks the certificate's name itself against the host.
    tls = None if plain and not ldaps else ldap3.Tls(validate=ssl.CERT_REQUIRED, sni=host)
    return ldap3.Server(host, port=port, use_ssl=ldaps, tls=tls, get_info=ldap3.NONE, connect_timeout=_timeout())


@contextmanager
def _connection(directory: Directory) -> Iterator[ldap3.Connection]:
    """A connection, TLS started, bound as the service account (anonymous without one)."""
    import ldap3
    from ldap3.core.exceptions import LDAPException

    if not directory.ldap_base_dn:
        raise LdapError(LdapFailure.MISCONFIGURED, "no base DN")
    server = server_for(directory.ldap_url or "", directory.ldap_plain)
    user = directory.ldap_bind_dn or None
    secret = bind_password(directory) if user else None
    if user and not secret:
        # Never an unauthenticated bind in the service account's name.
        raise LdapError(LdapFailure.MISCONFIGURED, "the service account's password cannot be read")
    conn = ldap3.Connection(
        server,
        user=user,
        password=secret,
        receive_timeout=_timeout(),
        raise_exceptions=False,
        read_only=True,
        auto_referrals=False,  # AD answers searches at a domain's root with referrals to other servers
    )
    try:
        conn.open()
        if not server.ssl and server.tls is not None:
            conn.start_tls()
        if not conn.bind():
            raise LdapError(_result_failure(conn), f"the service account was refused ({_result(conn)})")
        yield conn
    finally:
        try:
            conn.unbind()
        except LDAPException:
            pass  # already closed by the server or the network


def user_filter(attribute: str, username: str) -> str:
    """(&(objectClass=user)(attribute=username)), or userPrincipalName too for a
    name with '@'; every value escaped by ldap3 (RFC 4515 §3)."""
    from ldap3.utils.conv import escape_filter_chars

    if not ATTRIBUTE.fullmatch(attribute):
        raise LdapError(LdapFailure.MISCONFIGURED, "the user attribute is not an attribute name")
    value = escape_filter_chars(username)
    match = f"({attribute}={value})"
    if "@" in username and attribute.lower() != UPN.lower():
        match = f"(|{match}({UPN}={value}))"
    return f"(&(objectClass=user){match})"


def _find(conn: ldap3.Connection, directory: Directory, username: str) -> dict | None:
    """The one entry the name finds; None for nobody or several."""
    import ldap3

    found = conn.search(
        directory.ldap_base_dn,
        user_filter(directory.ldap_user_attribute or "sAMAccountName", username),
        ldap3.SUBTREE,
        attributes=_READ,
        size_limit=2,
        time_limit=_timeout(),
    )
    if not found and _result(conn) not in ("success", "sizeLimitExceeded"):
        raise LdapError(_result_failure(conn), f"the search failed ({_result(conn)})")
    entries = [r for r in conn.response or [] if r.get("type") == "searchResEntry"]
    return entries[0] if len(entries) == 1 else None


def _bind(conn: ldap3.Connection, dn: str, password: str) -> bool:
    """Bind the connection as ``dn``; False when the directory refuses the
    credentials (AD also refuses so a disabled, locked or expired account)."""
    if conn.rebind(user=dn, password=password):
        return True
    if _result_failure(conn) == LdapFailure.UNAVAILABLE:
        raise LdapError(LdapFailure.UNAVAILABLE, f"the directory is busy ({_result(conn)})")
    return False


def _account(entry: dict) -> LdapAccount:
    attributes = entry["attributes"]
    upn = _first(attributes.get(UPN))
    if not upn:
        raise LdapError(LdapFailure.MISCONFIGURED, "the person has no userPrincipalName")
    return LdapAccount(
        upn=upn.lower(),
        dn=entry["dn"],
        name=_first(attributes.get("displayName")) or _first(attributes.get("cn")),
        email=_first(attributes.get("mail")),
    )


def _first(value: object) -> str | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return str(value) if value else None


def _result(conn: ldap3.Connection) -> str:
    return str((conn.result or {}).get("description", ""))


def _result_failure(conn: ldap3.Connection) -> LdapFailure:
    return LdapFailure.UNAVAILABLE if _result(conn) in _BUSY else LdapFailure.MISCONFIGURED
