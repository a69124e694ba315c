"""A tenant's Active Directory (manual §1.3): ADFS over SAML, or a direct LDAP
bind; and the SAML assertions already accepted (each is used once)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from .base import Base, IdMixin

UPN_CLAIM = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"


class DirectoryKind(StrEnum):
    SAML = "saml"
    LDAP = "ldap"


class Directory(IdMixin, Base):
    __tablename__ = "directories"

    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), unique=True)
    # "adfs-" + 18 alphanumerics, issued once per tenant and kept when the settings change.
    connection_id: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    updated_at: Mapped[datetime | None]

    # SAML: the ADFS federation metadata as given (file or URL) and what it names.
    saml_metadata: Mapped[str | None] = mapped_column(Text)
    saml_metadata_url: Mapped[str | None] = mapped_column(String(1000))
    saml_entity_id: Mapped[str | None] = mapped_column(String(1000))
    # The attribute that carries the UPN (ADFS's upn claim unless told otherwise).
    upn_attribute: Mapped[str] = mapped_column(String(255), default=UPN_CLAIM)

    # LDAP: ldaps://… or ldap://… (StartTLS unless ldap_plain), the base of the
    # search, the service account (its password sealed), the attribute matched
    # against what people type as their user name.
    ldap_url: Mapped[str | None] = mapped_column(String(1000))
    ldap_base_dn: Mapped[str | None] = mapped_column(String(1000))
    ldap_bind_dn: Mapped[str | None] = mapped_column(String(1000))
    ldap_bind_password_sealed: Mapped[str | None] = mapped_column(Text)
    ldap_user_attribute: Mapped[str] = mapped_column(String(64), default="sAMAccountName")
    ldap_plain: Mapped[bool] = mapped_column(default=False)


class SeenAssertion(Base):
    """A SAML assertion id accepted once: refused again until it expires, on
    every worker and node (the primary key decides a race)."""

    __tablename__ = "saml_assertions_seen"

    # SHA-256 hex of the issuing entity and the assertion's ID.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(index=True)
