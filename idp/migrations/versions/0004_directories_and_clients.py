"""Active Directory per tenant, SAML assertions seen, client secret rotation

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 07:20:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "directories",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("connection_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("saml_metadata", sa.Text(), nullable=True),
        sa.Column("saml_metadata_url", sa.String(length=1000), nullable=True),
        sa.Column("saml_entity_id", sa.String(length=1000), nullable=True),
        sa.Column("upn_attribute", sa.String(length=255), nullable=False),
        sa.Column("ldap_url", sa.String(length=1000), nullable=True),
        sa.Column("ldap_base_dn", sa.String(length=1000), nullable=True),
        sa.Column("ldap_bind_dn", sa.String(length=1000), nullable=True),
        sa.Column("ldap_bind_password_sealed", sa.Text(), nullable=True),
        sa.Column("ldap_user_attribute", sa.String(length=64), nullable=False),
        sa.Column("ldap_plain", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_directories_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_directories")),
        sa.UniqueConstraint("connection_id", name=op.f("uq_directories_connection_id")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_directories_tenant_id")),
    )
    op.create_table(
        "saml_assertions_seen",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_saml_assertions_seen")),
    )
    op.create_index(op.f("ix_saml_assertions_seen_expires_at"), "saml_assertions_seen", ["expires_at"], unique=False)
    with op.batch_alter_table("clients") as batch_op:
        batch_op.add_column(sa.Column("previous_secret_hash", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("previous_secret_expires_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("jwks_uri", sa.String(length=1000), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("clients") as batch_op:
        for column in ("jwks_uri", "previous_secret_expires_at", "previous_secret_hash"):
            batch_op.drop_column(column)
    op.drop_index(op.f("ix_saml_assertions_seen_expires_at"), table_name="saml_assertions_seen")
    op.drop_table("saml_assertions_seen")
    op.drop_table("directories")
