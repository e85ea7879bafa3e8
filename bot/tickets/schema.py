"""Database tables of the ticket store (SQLAlchemy Core; Alembic migrations follow it)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

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

# Every call of the department API. Migration 0003.
api_audit = Table(
    "api_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("actor", String(100), nullable=False),
    Column("role", String(16), nullable=False),
    Column("method", String(8), nullable=False),
    Column("path", String(300), nullable=False),
    Column("status", Integer, nullable=False),
    Column("number", String(32)),
)

# Knowledge-base questions nobody could answer, and answers' usefulness. Migration 0004.
kb_gaps = Table(
    "kb_gaps", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("sender_id", String(200)),
    Column("question", Text, nullable=False),
    Column("region", String(32)),
    Column("domain", String(32)),
    Column("best_doc_id", String(100)),  # the nearest document, too weak to answer
    Column("confidence", Float),
)

kb_feedback = Table(
    "kb_feedback", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("sender_id", String(200)),
    Column("question", Text, nullable=False),
    Column("doc_id", String(100), nullable=False),
    Column("helpful", Boolean, nullable=False),
)

# Standard questions (FAQ) proposed by agents from the console, approved or rejected by an
# administrator; an approved pair is written to the knowledge base's FAQ folder.
# Migration 0007.
faq_proposals = Table(
    "faq_proposals", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("proposed_by", String(64), nullable=False),
    Column("question", Text, nullable=False),
    Column("answer", Text, nullable=False),
    Column("doc_id", String(100), nullable=False),
    Column("section", String(200), nullable=False),
    Column("status", String(16), nullable=False, index=True),  # proposed|approved|rejected
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
    Column("faq_id", String(100)),  # the id it got in the FAQ file, once approved
)

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

# Web users (agents, department handlers, administrators), their sessions, failed
# logins (rate limit), and agents' corrections of the NLU. Migration 0005.
web_users = Table(
    "web_users", metadata,
    Column("username", String(64), primary_key=True),
    Column("password_hash", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("department", String(100)),
    Column("display_name", String(100)),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

web_sessions = Table(
    "web_sessions", metadata,
    Column("id_hash", String(64), primary_key=True),  # SHA-256 of the cookie value
    Column("username", String(64), ForeignKey("web_users.username"), nullable=False),
    Column("csrf", String(64), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
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

login_failures = Table(
    "login_failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("username", String(64), nullable=False),
    Column("address", String(64), nullable=False),
)

nlu_corrections = Table(
    "nlu_corrections", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("username", String(64), nullable=False),
    Column("text", Text, nullable=False),
    Column("intent", String(32), nullable=False),
    Column("predicted_domain", String(32)),
    Column("predicted_subtopic", String(64)),
    Column("domain", String(32), nullable=False),
    Column("subtopic", String(64), nullable=False),
    # migration 0008: agent (console) or user (类别不对); pending → accepted/rejected
    Column("source", String(16), nullable=False, server_default="agent"),
    Column("status", String(16), nullable=False, server_default="pending", index=True),
    Column("decided_by", String(64)),
    Column("decided_at", DateTime(timezone=True)),
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
)
