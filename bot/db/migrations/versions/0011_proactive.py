"""Proactive service: enterprise profiles and their audit trail, matched policy versions,
policy notices.

Revision ID: 0011
Revises: 0010
"""
import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "enterprise_profiles",
        sa.Column("credit_code", sa.String(18), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("region", sa.String(32)),
        sa.Column("industry", sa.String(64)),
        sa.Column("size", sa.String(8)),
        sa.Column("qualifications", sa.JSON, nullable=False),
        sa.Column("rd_expense", sa.Float),
        sa.Column("employees", sa.Integer),
        sa.Column("channel", sa.String(32)),
        sa.Column("sender_id", sa.String(200)),
        sa.Column("conversation_id", sa.String(200)),
        sa.Column("subscribed", sa.Boolean, nullable=False, server_default="1"),
        sa.Column("completed_at", sa.DateTime(timezone=True)),
        sa.Column("declined_at", sa.DateTime(timezone=True)),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_ticket_at", sa.DateTime(timezone=True)),
    )
    op.create_index("ix_enterprise_profiles_sender_id", "enterprise_profiles", ["sender_id"])
    op.create_table(
        "profile_audit",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
    )
    op.create_index("ix_profile_audit_at", "profile_audit", ["at"])
    op.create_index("ix_profile_audit_credit_code", "profile_audit", ["credit_code"])
    op.create_table(
        "proactive_marks",
        sa.Column("name", sa.String(32), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "policy_versions",
        sa.Column("doc_id", sa.String(100), primary_key=True),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "policy_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("doc_id", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("deadline", sa.Date),
        sa.Column("channel", sa.String(32)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("detail", sa.String(300)),
        sa.UniqueConstraint("credit_code", "doc_id", "kind", name="uq_policy_deliveries_once"),
    )
    op.create_index("ix_policy_deliveries_status", "policy_deliveries", ["status", "created_at"])
    op.create_index("ix_policy_deliveries_sent", "policy_deliveries", ["credit_code", "sent_at"])


def downgrade() -> None:
    op.drop_table("policy_deliveries")
    op.drop_table("policy_versions")
    op.drop_table("proactive_marks")
    op.drop_table("profile_audit")
    op.drop_table("enterprise_profiles")
