"""Building the ticket back end from the settings (the one place backends are chosen)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.engine import Engine

from bot.kb.log import KbLog
from bot.settings import Settings
from bot.sqlite import file_engine
from bot.tickets import migrate
from bot.tickets.calendar import WorkCalendar
from bot.tickets.handoffs import HandoffStore
from bot.tickets.lookup import TicketLookup
from bot.tickets.outbox import Outbox
from bot.tickets.routing import load_routing
from bot.tickets.service import TicketService
from bot.tickets.store import SqlTicketStore


@dataclass(frozen=True)
class Backend:
    engine: Engine
    service: TicketService
    handoffs: HandoffStore
    outbox: Outbox
    kb_log: KbLog
    lookup: TicketLookup


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


def build_backend(settings: Settings, migrate_schema: bool = True) -> Backend:
    """SQLite file by default (created on first use), PostgreSQL by URL; schema migrated.

    With ``migrate_schema=False`` nothing touches the database until it is used, so an
    action server can start while the database is down (requests go to the outbox).
    """
    engine = database_engine(settings, migrate_schema)
    store = SqlTicketStore(engine)
    service = TicketService(store, load_routing(settings.routing_file),
                            WorkCalendar.from_file(settings.holidays_file))
    return Backend(engine, service, HandoffStore(engine), Outbox(settings.outbox_dir),
                   KbLog(engine), TicketLookup(engine, store))

