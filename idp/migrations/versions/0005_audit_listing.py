"""audit log listing: one index for a tenant's events newest first

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 07:30:00
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The listing's index starts with tenant_id, so it serves every lookup the old one did.
    op.create_index("ix_audit_events_tenant_listing", "audit_events", ["tenant_id", "created_at", "id"])
    op.drop_index("ix_audit_events_tenant_id", table_name="audit_events")


def downgrade() -> None:
    op.create_index("ix_audit_events_tenant_id", "audit_events", ["tenant_id"])
    op.drop_index("ix_audit_events_tenant_listing", table_name="audit_events")
