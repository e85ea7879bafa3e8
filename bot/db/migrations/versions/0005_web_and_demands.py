"""Demands for the statistics; web users, sessions, failed logins, NLU corrections.

Revision ID: 0005
Revises: 0004
"""
import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "demands",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("intent", sa.String(32), nullable=False),
        sa.Column("domain", sa.String(32), nullable=False, index=True),
        sa.Column("subtopic", sa.String(64)),
        sa.Column("region", sa.String(32), index=True),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
    )
    op.create_table(
        "web_users",
        sa.Column("username", sa.String(64), primary_key=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("department", sa.String(100)),
        sa.Column("display_name", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "web_sessions",
        sa.Column("id_hash", sa.String(64), primary_key=True),
        sa.Column("username", sa.String(64), sa.ForeignKey("web_users.username"),
                  nullable=False),
        sa.Column("csrf", sa.String(64), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
    )
    op.create_table(
        "nlu_corrections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("intent", sa.String(32), nullable=False),
        sa.Column("predicted_domain", sa.String(32)),
        sa.Column("predicted_subtopic", sa.String(64)),
        sa.Column("domain", sa.String(32), nullable=False),
        sa.Column("subtopic", sa.String(64), nullable=False),
    )
    op.create_index("ix_tickets_status_created", "tickets", ["status", "created_at"])
    # covers the statistics' counts (no need to read the demands' texts)
    op.create_index("ix_demands_stats", "demands",
                    ["at", "domain", "subtopic", "region", "channel"])
    op.create_index("ix_ticket_events_to_status", "ticket_events", ["to_status"])
    # covers the statistics' per-ticket pass over the events
    op.create_index("ix_ticket_events_stats", "ticket_events",
                    ["number", "kind", "to_status", "at"])


def downgrade() -> None:
    op.drop_index("ix_demands_stats", "demands")
    op.drop_index("ix_ticket_events_stats", "ticket_events")
    op.drop_index("ix_ticket_events_to_status", "ticket_events")
    op.drop_index("ix_tickets_status_created", "tickets")
    for table in ("nlu_corrections", "login_failures", "web_sessions", "web_users", "demands"):
        op.drop_table(table)
