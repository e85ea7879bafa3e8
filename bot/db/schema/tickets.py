"""Tickets, their events, numbering, idempotency keys, hand-overs to a person and failed
look-ups. (Migrations: bot/db/migrations.)"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bot.db.schema.base import metadata

#: the columns of the tickets' statistics index (migration 0010)
STATS_COLUMNS = ("created_at", "region", "domain", "status", "first_response_due",
                 "resolution_due", "responded_at", "resolved_at", "escalated", "reopened",
                 "rating")

tickets = Table(
    "tickets", metadata,
    Column("number", String(32), primary_key=True),  # QZ-20261126-0001
    Column("status", String(16), nullable=False, index=True),
    Column("version", Integer, nullable=False),  # optimistic lock
    Column("enterprise_name", String(200), nullable=False),
    Column("credit_code", String(18)),
    Column("contact", String(100)),
    Column("mobile", String(20)),
    Column("region", String(32), nullable=False, index=True),
    Column("domain", String(32), nullable=False, index=True),
    Column("subtopic", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("channel", String(32), nullable=False),
    Column("sender_id", String(200), index=True),
    Column("department", String(100), index=True),
    Column("level", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, index=True),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("first_response_due", Date),  # migration 0002
    Column("resolution_due", Date),
    Column("conversation_id", String(200)),  # migration 0003
    # closed-loop facts kept up to date with the events (migration 0010), so the
    # statistics read one row per ticket instead of grouping its events
    Column("responded_at", DateTime(timezone=True)),  # first in_progress/resolved/…
    Column("resolved_at", DateTime(timezone=True)),  # first resolved
    Column("escalated", Boolean, nullable=False, server_default="0"),
    Column("reopened", Boolean, nullable=False, server_default="0"),
    Column("rating", Integer),  # the latest rating, 1–5
    Index("ix_tickets_status_created", "status", "created_at"),  # migration 0005
    # covers the dashboard's closed-loop figures: read from the index alone
    Index("ix_tickets_stats", *STATS_COLUMNS),
)

ticket_events = Table(
    "ticket_events", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("number", String(32), ForeignKey("tickets.number"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(100), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), index=True),  # migration 0005
    Column("data", JSON, nullable=False),
    UniqueConstraint("number", "seq", name="uq_ticket_events_number_seq"),
    Index("ix_ticket_events_stats", "number", "kind", "to_status", "at"),  # migration 0005
)

# Per region prefix and day, the last sequence number handed out.
ticket_sequences = Table(
    "ticket_sequences", metadata,
    Column("prefix", String(8), primary_key=True),
    Column("day", String(8), primary_key=True),  # 20261126
    Column("last", Integer, nullable=False),
)

# Idempotency: every request to open a ticket carries a key (sender + demand id); the
# key is stored in the transaction that creates or links the ticket. Migration 0003.
ticket_requests = Table(
    "ticket_requests", metadata,
    Column("key", String(200), primary_key=True),
    Column("number", String(32), ForeignKey("tickets.number"), nullable=False),
    Column("duplicate", Boolean, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

# Conversations handed over to a person (request_human). Migration 0003.
handoffs = Table(
    "handoffs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("sender_id", String(200), nullable=False, index=True),
    Column("conversation_id", String(200), nullable=False),
    Column("channel", String(32), nullable=False),
    Column("number", String(32), ForeignKey("tickets.number")),
    Column("text", Text, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("closed_by", String(100)),
)

# Wrong mobile tails (or unknown numbers) given to see a ticket. Migration 0009.
lookup_failures = Table(
    "lookup_failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("number", String(32), nullable=False),
    Column("channel", String(16), nullable=False),
    Index("ix_lookup_failures_number_at", "number", "at"),
)

# A ticket that reports on other tickets, e.g. a policy-blockage report (堵点上报) made
# from a common problem: each demand ticket is reported at most once. Migration 0012.
ticket_links = Table(
    "ticket_links", metadata,
    Column("related", String(32), primary_key=True),  # the demand ticket reported on
    Column("number", String(32), nullable=False, index=True),  # the report
    Column("at", DateTime(timezone=True), nullable=False),
)
