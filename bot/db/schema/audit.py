"""The audit trail of the department API and the web pages. (Migrations: bot/db/migrations.)"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    String,
    Table,
)

from bot.db.schema.base import metadata

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
