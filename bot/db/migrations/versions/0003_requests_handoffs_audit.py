"""Idempotency keys, human hand-offs, the API audit log, the Rasa conversation id.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("conversation_id", sa.String(200)))
    op.create_table(
        "ticket_requests",
        sa.Column("key", sa.String(200), primary_key=True),
        sa.Column("number", sa.String(32), sa.ForeignKey("tickets.number"), nullable=False),
        sa.Column("duplicate", sa.Boolean, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "handoffs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("sender_id", sa.String(200), nullable=False, index=True),
        sa.Column("conversation_id", sa.String(200), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("number", sa.String(32), sa.ForeignKey("tickets.number")),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("closed_by", sa.String(100)),
    )
    op.create_table(
        "api_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("path", sa.String(300), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("number", sa.String(32)),
    )


def downgrade() -> None:
    op.drop_table("api_audit")
    op.drop_table("handoffs")
    op.drop_table("ticket_requests")
    with op.batch_alter_table("tickets") as batch:
        batch.drop_column("conversation_id")
