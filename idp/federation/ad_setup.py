"""Setting up a tenant's Active Directory connection (manual §0 「Active
Directory設定」): the ADFS federation metadata (a file or a URL), or a direct
LDAP bind. The same for the account menu and the command line; the holder
gets the connection id by mail when it is new (``ad_notice``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from .. import audit
from ..models import Directory, Tenant, User
from . import ad_notice, ldap, saml
from . import directory as directories
from .saml import MetadataError


def is_url(source: str) -> bool:
    return urlsplit(source.strip()).scheme in ("http", "https")


def use_metadata(
    tenant: Tenant, data: bytes | None, url: str | None, actor: User | None, via: str
) -> tuple[Directory, bool]:
    """Keep the metadata given (``data``) or found at ``url``; MetadataError if it
    cannot be used, and then nothing changes. True when the connection id is new."""
    if url:
        data = saml.fetch_metadata(url.strip())
    if not data:
        raise MetadataError("empty")
    metadata = saml.read_metadata(data)
    directory, created = directories.set_saml(tenant, metadata.xml, metadata.entity_id, url.strip() if url else None)
    return _set(directory, created, actor, via, entity_id=metadata.entity_id)


def _set(directory: Directory, created: bool, actor: User | None, via: str, **detail: object) -> tuple[Directory, bool]:
    """Audited; the holder is told a new connection id."""
    audit.record(
        "tenant.ad_set",
        user=actor,
        tenant_id=directory.tenant_id,
        kind=directory.kind,
        connection_id=directory.connection_id,
        created=created,
        via=via,
        **detail,
    )
    if created:
        ad_notice.tell_holder(directory)
    return directory, created


LdapSettingsError = ldap.SettingsError


def use_ldap(
    tenant: Tenant,
    url: str,
    base_dn: str,
    bind_dn: str | None,
    bind_password: str | None,
    user_attribute: str,
    plain: bool,
    actor: User | None,
    via: str,
) -> tuple[Directory, bool]:
    """A direct LDAP bind instead of ADFS; LdapSettingsError if the settings
    cannot work, and then nothing changes. An empty ``bind_password`` keeps the
    one stored for the same service account (the page never shows it back)."""
    url, base_dn, user_attribute = url.strip(), base_dn.strip(), user_attribute.strip()
    bind_dn = (bind_dn or "").strip() or None
    ldap.check_settings(url, base_dn, bind_dn, user_attribute, plain)
    known = directories.of_tenant(tenant.id)
    if not bind_password and known is not None and bind_dn and known.ldap_bind_dn == bind_dn:
        bind_password = directories.bind_password(known)
    directory, created = directories.set_ldap(tenant, url, base_dn, bind_dn, bind_password, user_attribute, plain)
    return _set(directory, created, actor, via, url=url, plain=plain)
