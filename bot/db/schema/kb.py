"""The knowledge base's log: unanswered questions, answer feedback, proposed standard
questions. (Migrations: bot/db/migrations.)"""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    Text,
)

from bot.db.schema.base import metadata

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
