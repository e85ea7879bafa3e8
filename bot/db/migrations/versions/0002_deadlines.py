"""Deadlines (working-day based) on tickets.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:  # batch mode: SQLite can't ALTER freely
        batch.add_column(sa.Column("first_response_due", sa.Date))
        batch.add_column(sa.Column("resolution_due", sa.Date))


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("resolution_due")
        batch.drop_column("first_response_due")
