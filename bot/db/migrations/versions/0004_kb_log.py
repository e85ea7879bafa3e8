"""Knowledge gaps and answer feedback of the policy knowledge base.

Revision ID: 0004
Revises: 0003
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kb_gaps",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("sender_id", sa.String(200)),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("region", sa.String(32)),
        sa.Column("domain", sa.String(32)),
        sa.Column("best_doc_id", sa.String(100)),
        sa.Column("confidence", sa.Float),
    )
    op.create_table(
        "kb_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("sender_id", sa.String(200)),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("doc_id", sa.String(100), nullable=False),
        sa.Column("helpful", sa.Boolean, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("kb_feedback")
    op.drop_table("kb_gaps")
