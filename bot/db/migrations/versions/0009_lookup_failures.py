"""Failed ticket look-ups (wrong mobile tail or unknown number), one limit per ticket
number across senders, channels and processes.

Revision ID: 0009
Revises: 0008
"""
import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lookup_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
    )
    op.create_index("ix_lookup_failures_number_at", "lookup_failures", ["number", "at"])


def downgrade() -> None:
    op.drop_index("ix_lookup_failures_number_at", "lookup_failures")
    op.drop_table("lookup_failures")
