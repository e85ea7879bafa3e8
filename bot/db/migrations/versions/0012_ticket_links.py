"""Ticket links: a policy-blockage report and the demand tickets it reports on.

Revision ID: 0012
Revises: 0011
"""
import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ticket_links",
        sa.Column("related", sa.String(32), primary_key=True),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ticket_links_number", "ticket_links", ["number"])


def downgrade() -> None:
    op.drop_index("ix_ticket_links_number", "ticket_links")
    op.drop_table("ticket_links")
