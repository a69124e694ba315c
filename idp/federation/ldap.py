"""A direct bind against a tenant's directory (LDAP instead of ADFS).

The interface the Active Directory pages use; see ``authenticate``."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ..models import Directory


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
    """The directory's person ``username`` once a bind as them with ``password`` succeeded."""
    raise LdapError(LdapFailure.MISCONFIGURED, "LDAP bind is not available yet")
