"""Statistics at scale: closed-loop facts on each ticket (first response, resolution,
escalated, reopened, latest rating) kept with its events; each demand's China day and
words; indexes for the dashboard's groupings. Existing rows get their facts and days.

Revision ID: 0010
Revises: 0009
"""
import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

FIRST_RESPONSE = "('in_progress', 'resolved', 'escalated', 'returned')"
DEMAND_INDEXES = {"ix_demands_day": ["day", "domain", "region", "subtopic", "channel"],
                  "ix_demands_domain_day": ["domain", "region", "day"],
                  "ix_demands_region_day": ["region", "day"],
                  "ix_demands_subtopic_day": ["subtopic", "day"],
                  "ix_demands_channel_day": ["channel", "day"]}
#: replaced by the indexes above
OLD_DEMAND_INDEXES = {"ix_demands_stats": ["at", "domain", "subtopic", "region", "channel"],
                      "ix_demands_domain": ["domain"], "ix_demands_region": ["region"]}
TICKET_STATS = ["created_at", "region", "domain", "status", "first_response_due",
                "resolution_due", "responded_at", "resolved_at", "escalated", "reopened",
                "rating"]


def upgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        batch.add_column(sa.Column("responded_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("resolved_at", sa.DateTime(timezone=True)))
        batch.add_column(sa.Column("escalated", sa.Boolean, nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("reopened", sa.Boolean, nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("rating", sa.Integer))
    with op.batch_alter_table("demands") as batch:
        batch.add_column(sa.Column("day", sa.Date))
        batch.add_column(sa.Column("words", sa.Text))
    _fill_tickets()
    _fill_demands()
    op.create_index("ix_tickets_stats", "tickets", TICKET_STATS)
    for name in OLD_DEMAND_INDEXES:
        op.drop_index(name, "demands")
    for name, columns in DEMAND_INDEXES.items():
        op.create_index(name, "demands", columns)


def _fill_tickets() -> None:
    def first(condition: str) -> str:
        return (f"(SELECT min(e.at) FROM ticket_events e WHERE e.number = tickets.number "
                f"AND e.kind = 'transition' AND {condition})")

    def ever(status: str) -> str:
        return (f"EXISTS (SELECT 1 FROM ticket_events e WHERE e.number = tickets.number "
                f"AND e.kind = 'transition' AND e.to_status = '{status}')")
    responded = first(f"e.to_status IN {FIRST_RESPONSE}")
    resolved = first("e.to_status = 'resolved'")
    op.execute(f"UPDATE tickets SET responded_at = {responded}, resolved_at = {resolved}, "
               f"escalated = {ever('escalated')}, reopened = {ever('reopened')}")
    conn = op.get_bind()
    events = sa.table("ticket_events", sa.column("number"), sa.column("seq"),
                      sa.column("to_status"), sa.column("data", sa.JSON))
    latest: dict[str, int] = {}
    for number, data in conn.execute(sa.select(events.c.number, events.c.data)
                                     .where(events.c.to_status == "rated")
                                     .order_by(events.c.number, events.c.seq)):
        if isinstance((data or {}).get("rating"), int):
            latest[number] = data["rating"]
    tickets = sa.table("tickets", sa.column("number"), sa.column("rating"))
    for number, rating in latest.items():
        conn.execute(sa.update(tickets).where(tickets.c.number == number)
                     .values(rating=rating))


def _fill_demands() -> None:
    """Each demand's China day. (Its words are left empty: the statistics cut the text
    of such a demand when they read it — a migration does not import the tokenizer.)"""
    if op.get_bind().dialect.name == "postgresql":
        op.execute("UPDATE demands SET day = (at AT TIME ZONE 'Asia/Shanghai')::date")
    else:
        op.execute("UPDATE demands SET day = date(at, '+8 hours')")


def downgrade() -> None:
    for name in DEMAND_INDEXES:
        op.drop_index(name, "demands")
    for name, columns in OLD_DEMAND_INDEXES.items():
        op.create_index(name, "demands", columns)
    op.drop_index("ix_tickets_stats", "tickets")
    with op.batch_alter_table("demands") as batch:
        batch.drop_column("words")
        batch.drop_column("day")
    with op.batch_alter_table("tickets") as batch:
        for column in ("rating", "reopened", "escalated", "resolved_at", "responded_at"):
            batch.drop_column(column)
