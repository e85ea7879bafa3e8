"""NLU corrections are reviewed: where they came from (an agent in the console or a user
with 类别不对), their review status, who decided and when.

Revision ID: 0008
Revises: 0007
"""
import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("nlu_corrections") as batch:
        batch.add_column(sa.Column("source", sa.String(16), nullable=False,
                                   server_default="agent"))
        batch.add_column(sa.Column("status", sa.String(16), nullable=False,
                                   server_default="pending"))
        batch.add_column(sa.Column("decided_by", sa.String(64)))
        batch.add_column(sa.Column("decided_at", sa.DateTime(timezone=True)))
        batch.create_index("ix_nlu_corrections_status", ["status"])


def downgrade() -> None:
    with op.batch_alter_table("nlu_corrections") as batch:
        batch.drop_index("ix_nlu_corrections_status")
        for column in ("decided_at", "decided_by", "status", "source"):
            batch.drop_column(column)
