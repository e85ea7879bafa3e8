"""The application database's engine: a SQLite file by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from bot.db import migrate
from bot.settings import Settings
from bot.sqlite import file_engine


def database_engine(settings: Settings, migrate_schema: bool = True) -> Engine:
    """The application database: SQLite file by default (its folder created), PostgreSQL
    by URL; the schema migrated unless ``migrate_schema`` is False."""
    url = settings.ticket_database_url
    # hide_parameters: a failed statement is logged without its values (mobiles, names)
    if url.startswith("sqlite:///") and ":memory:" not in url:
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = file_engine(url, pool_size=5, future=True, hide_parameters=True)
    else:
        engine = create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True)
    if migrate_schema:
        migrate.upgrade(engine)
    return engine
