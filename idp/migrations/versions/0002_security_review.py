"""security review: line-only history, enrolment line, SMS flow, rate limits

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 04:30:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.add_column(sa.Column("line_only_since", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("mfa_before_line_only", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("reset_keeps_two_step", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("mfa_enrolments") as batch_op:
        batch_op.alter_column("recovery_code_hash", type_=sa.String(length=255), existing_type=sa.String(length=64))
        batch_op.add_column(sa.Column("line_id", sa.String(length=16), nullable=True))
    with op.batch_alter_table("sms_codes") as batch_op:
        batch_op.add_column(sa.Column("flow_id", sa.String(length=36), nullable=True))
    with op.batch_alter_table("browser_sessions") as batch_op:
        batch_op.add_column(sa.Column("reauthenticated_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "rate_limits",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("window_started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rate_limits")),
    )
    # A tenant already line-only switched at its latest route change (or was
    # created so). Two-step verification comes back on when it leaves line-only,
    # the default and the safe guess.
    true = "true" if op.get_bind().dialect.name == "postgresql" else "1"
    op.execute(
        "UPDATE tenants SET mfa_before_line_only = " + true + ", line_only_since = COALESCE("
        "(SELECT MAX(e.created_at) FROM audit_events e WHERE e.tenant_id = tenants.id"
        " AND e.event = 'tenant.access_route_changed'), tenants.created_at)"
        " WHERE access_route = 'line-only'"
    )


def downgrade() -> None:
    op.drop_table("rate_limits")
    with op.batch_alter_table("browser_sessions") as batch_op:
        batch_op.drop_column("reauthenticated_at")
    with op.batch_alter_table("sms_codes") as batch_op:
        batch_op.drop_column("flow_id")
    with op.batch_alter_table("mfa_enrolments") as batch_op:
        batch_op.drop_column("line_id")
        batch_op.alter_column("recovery_code_hash", type_=sa.String(length=64), existing_type=sa.String(length=255))
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.drop_column("reset_keeps_two_step")
        batch_op.drop_column("mfa_before_line_only")
        batch_op.drop_column("line_only_since")
