"""Conversation turns from the event broker (channel, intent, confidence, latency).

Revision ID: 0006
Revises: 0005
"""
import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("intent", sa.String(64), nullable=False),
        sa.Column("confidence", sa.Float),
        sa.Column("domain", sa.String(32)),
        sa.Column("latency_ms", sa.Integer),
    )


def downgrade() -> None:
    op.drop_table("turns")
