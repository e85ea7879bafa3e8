"""Bringing the application database up to the current schema with Alembic (the version
table keeps its first name, ``ticket_store_version``)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"


#: PostgreSQL advisory lock key: one migrator at a time when replicas start together
LOCK_KEY = 0x60B07


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply every migration not yet applied (idempotent). On PostgreSQL the upgrade
    holds an advisory lock, so replicas starting together migrate one after another
    (the later ones find nothing to do); SQLite serialises writers by itself."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
