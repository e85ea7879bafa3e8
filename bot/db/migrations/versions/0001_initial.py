"""Tickets, their event log and the per-day number sequences.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tickets",
        sa.Column("number", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("enterprise_name", sa.String(200), nullable=False),
        sa.Column("credit_code", sa.String(18)),
        sa.Column("contact", sa.String(100)),
        sa.Column("mobile", sa.String(20)),
        sa.Column("region", sa.String(32), nullable=False, index=True),
        sa.Column("domain", sa.String(32), nullable=False, index=True),
        sa.Column("subtopic", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("sender_id", sa.String(200), index=True),
        sa.Column("department", sa.String(100), index=True),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "ticket_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("number", sa.String(32), sa.ForeignKey("tickets.number"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16)),
        sa.Column("data", sa.JSON, nullable=False),
        sa.UniqueConstraint("number", "seq", name="uq_ticket_events_number_seq"),
    )
    op.create_table(
        "ticket_sequences",
        sa.Column("prefix", sa.String(8), primary_key=True),
        sa.Column("day", sa.String(8), primary_key=True),
        sa.Column("last", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ticket_sequences")
    op.drop_table("ticket_events")
    op.drop_table("tickets")
