"""A tenant's Active Directory connection (manual §1.3): the connection id,
issued once per tenant and kept whatever replaces the settings, and the
settings of either kind, ADFS over SAML or a direct LDAP bind."""

from __future__ import annotations

import re
import secrets
import string

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import clock, db, sealing
from ..models import Directory, DirectoryKind, Tenant

PREFIX = "adfs-"
CONNECTION_ID = re.compile(r"adfs-[A-Za-z0-9]{18}")
_ALPHABET = string.ascii_letters + string.digits
_SEAL = "ldap bind password"


def new_connection_id() -> str:
    return PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(18))


def of_tenant(tenant_id: str) -> Directory | None:
    return db.session().scalar(select(Directory).where(Directory.tenant_id == tenant_id))


def by_connection_id(connection_id: str) -> Directory | None:
    """The connection ``connection_id`` names; None for anything not of its form."""
    if not CONNECTION_ID.fullmatch(connection_id or ""):
        return None
    return db.session().scalar(select(Directory).where(Directory.connection_id == connection_id))


def _ensure(tenant: Tenant, kind: DirectoryKind) -> tuple[Directory, bool]:
    """The tenant's connection, created with a new connection id when it has none.
    Of two first settings at once, the unique tenant_id keeps one."""
    found = of_tenant(tenant.id)
    if found is not None:
        found.kind = kind
        found.updated_at = clock.now()
        return found, False
    directory = Directory(tenant_id=tenant.id, connection_id=new_connection_id(), kind=kind, updated_at=clock.now())
    try:
        with db.session().begin_nested():
            db.session().add(directory)
    except IntegrityError:
        return _ensure(tenant, kind)
    return directory, True


def set_saml(tenant: Tenant, metadata_xml: str, entity_id: str, url: str | None = None) -> tuple[Directory, bool]:
    """ADFS: its federation metadata (already read and checked). True when the
    connection id is new (the holder is told it by mail)."""
    directory, created = _ensure(tenant, DirectoryKind.SAML)
    directory.saml_metadata, directory.saml_entity_id, directory.saml_metadata_url = metadata_xml, entity_id, url
    return directory, created


def set_ldap(
    tenant: Tenant,
    url: str,
    base_dn: str,
    bind_dn: str | None = None,
    bind_password: str | None = None,
    user_attribute: str = "sAMAccountName",
    plain: bool = False,
) -> tuple[Directory, bool]:
    """A direct LDAP bind instead of ADFS; the service account's password is sealed."""
    directory, created = _ensure(tenant, DirectoryKind.LDAP)
    directory.ldap_url, directory.ldap_base_dn, directory.ldap_bind_dn = url, base_dn, bind_dn or None
    directory.ldap_bind_password_sealed = sealing.seal(_SEAL, bind_password) if bind_password else None
    directory.ldap_user_attribute, directory.ldap_plain = user_attribute, plain
    return directory, created


def bind_password(directory: Directory) -> str | None:
    return sealing.unseal(_SEAL, directory.ldap_bind_password_sealed)
