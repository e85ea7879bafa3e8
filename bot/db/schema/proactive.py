"""Proactive service: enterprise profiles (企业档案) with their audit trail, the policy
versions already matched against them, and the policy notices delivered.
(Migrations: bot/db/migrations.)"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
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

# One row per enterprise, keyed on its unified social credit code; only what matching
# needs and where to reach it. Migration 0011.
enterprise_profiles = Table(
    "enterprise_profiles", metadata,
    Column("credit_code", String(18), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("region", String(32)),
    Column("industry", String(64)),
    Column("size", String(8)),  # micro | small | medium | large
    Column("qualifications", JSON, nullable=False),  # list of names (bot/kb/matching.py)
    Column("rd_expense", Float),  # yuan per year
    Column("employees", Integer),
    # where the enterprise talks to us: its channel, sender and conversation (from its
    # latest ticket or chat); None for a hotline caller (no channel to push to)
    Column("channel", String(32)),
    Column("sender_id", String(200), index=True),
    Column("conversation_id", String(200)),
    Column("subscribed", Boolean, nullable=False, server_default="1"),  # "退订" clears it
    Column("completed_at", DateTime(timezone=True)),  # the enterprise completed its details
    Column("declined_at", DateTime(timezone=True)),  # ... or declined to
    Column("source", String(16), nullable=False),  # ticket | console | chat
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("last_ticket_at", DateTime(timezone=True)),  # the latest ticket read into it
)

# Every read and change of a profile: who, what, which fields (names, never values).
profile_audit = Table(
    "profile_audit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False, index=True),
    Column("credit_code", String(18), nullable=False, index=True),
    Column("actor", String(200), nullable=False),
    Column("action", String(16), nullable=False),  # read|create|update|delete|subscribe|…
    Column("fields", JSON, nullable=False),
)

# How far a background step has read (e.g. the tickets read into profiles), so a deleted
# profile is not rebuilt from the tickets it was already built from.
proactive_marks = Table(
    "proactive_marks", metadata,
    Column("name", String(32), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False),
)

# The version (content hash) of each benefit-granting document already matched against
# the profiles: a new or changed version is matched once.
policy_versions = Table(
    "policy_versions", metadata,
    Column("doc_id", String(100), primary_key=True),
    Column("hash", String(64), nullable=False),
    Column("matched_at", DateTime(timezone=True), nullable=False),
)

# A policy notice (or a deadline reminder) for one enterprise: planned when a document
# matched, sent within the weekly limit, its outcome recorded. Once per enterprise,
# document and kind.
policy_deliveries = Table(
    "policy_deliveries", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("credit_code", String(18), nullable=False),
    Column("doc_id", String(100), nullable=False),
    Column("kind", String(16), nullable=False),  # notice | reminder
    Column("status", String(16), nullable=False),  # pending|sent|failed|no_channel|cancelled
    Column("text", Text, nullable=False),  # the message as the enterprise reads it
    Column("deadline", Date),
    Column("channel", String(32)),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sent_at", DateTime(timezone=True)),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("detail", String(300)),  # why it failed or was not sent
    Column("asked_at", DateTime(timezone=True)),  # the enterprise then asked about it (0012)
    UniqueConstraint("credit_code", "doc_id", "kind", name="uq_policy_deliveries_once"),
    Index("ix_policy_deliveries_status", "status", "created_at"),
    Index("ix_policy_deliveries_sent", "credit_code", "sent_at"),
)
