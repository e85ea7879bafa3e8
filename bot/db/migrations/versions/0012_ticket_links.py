"""Ticket links: a policy-blockage report and the demand tickets it reports on; when an
enterprise asked about a policy notice it was sent; each turn's event key (a conversation
event delivered twice is counted once).

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
    op.add_column("policy_deliveries", sa.Column("asked_at", sa.DateTime(timezone=True)))
    with op.batch_alter_table("turns") as batch:
        batch.add_column(sa.Column("event_key", sa.String(40)))
        batch.create_unique_constraint("uq_turns_event_key", ["event_key"])


def downgrade() -> None:
    with op.batch_alter_table("turns") as batch:
        batch.drop_constraint("uq_turns_event_key", type_="unique")
        batch.drop_column("event_key")
    op.drop_column("policy_deliveries", "asked_at")
    op.drop_index("ix_ticket_links_number", "ticket_links")
    op.drop_table("ticket_links")
