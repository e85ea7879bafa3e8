"""What the statistics count: recognised demands and conversation turns. (Migrations:
bot/db/migrations.)"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from bot.db.schema.base import metadata

# Every enterprise demand the assistant recognised (a reported problem or a policy
# question), whether or not it became a ticket: the statistics count these.
# Migration 0005.
demands = Table(
    "demands", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("intent", String(32), nullable=False),
    Column("domain", String(32), nullable=False),
    Column("subtopic", String(64)),
    Column("region", String(32)),
    Column("channel", String(32), nullable=False),
    Column("text", Text, nullable=False),
    # migration 0010: China's calendar day of ``at`` (what the statistics group by) and
    # the text's words (the recurring phrases), both written with the demand
    Column("day", Date),
    Column("words", Text),
    # one index per grouping of the dashboard, so each is read in order, without sorting
    Index("ix_demands_day", "day", "domain", "region", "subtopic", "channel"),
    Index("ix_demands_domain_day", "domain", "region", "day"),
    Index("ix_demands_region_day", "region", "day"),
    Index("ix_demands_subtopic_day", "subtopic", "day"),
    Index("ix_demands_channel_day", "channel", "day"),
)

# One row per user message, from the event broker (bot/events.py). Migration 0006.
turns = Table(
    "turns", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("channel", String(32), nullable=False),
    Column("intent", String(64), nullable=False),
    Column("confidence", Float),
    Column("domain", String(32)),
    Column("latency_ms", Integer),
    # the user event's identity (a hash of conversation and timestamp): an event
    # delivered twice — published again from a replica's spool — is counted once (0012)
    Column("event_key", String(40)),
    UniqueConstraint("event_key", name="uq_turns_event_key"),
)
