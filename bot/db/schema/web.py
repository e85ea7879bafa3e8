"""Web users, their sessions, failed logins and agents' corrections of the NLU.
(Migrations: bot/db/migrations.)"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Table,
    Text,
)

from bot.db.schema.base import metadata

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
