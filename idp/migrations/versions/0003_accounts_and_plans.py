"""accounts and plans: trial end, cancellation, contract details, last sign-in

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 05:05:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tenants") as batch_op:
        batch_op.add_column(sa.Column("trial_ends_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("company_name", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("contact_name", sa.String(length=200), nullable=False, server_default=""))
        batch_op.add_column(sa.Column("contact_phone", sa.String(length=32), nullable=False, server_default=""))
    with op.batch_alter_table("users") as batch_op:
        batch_op.add_column(sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True))
    # Trials that began before their end was recorded end 30 days after creation.
    op.execute(
        "UPDATE tenants SET trial_ends_at = created_at + INTERVAL '30 days' WHERE plan = 'trial'"
        if op.get_bind().dialect.name == "postgresql"
        else "UPDATE tenants SET trial_ends_at = datetime(created_at, '+30 days') WHERE plan = 'trial'"
    )


def downgrade() -> None:
    with op.batch_alter_table("users") as batch_op:
        batch_op.drop_column("last_login_at")
    with op.batch_alter_table("tenants") as batch_op:
        for column in ("contact_phone", "contact_name", "company_name", "cancelled_at", "trial_ends_at"):
            batch_op.drop_column(column)
