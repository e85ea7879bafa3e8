"""Building the ticket back end from the settings (the one place backends are chosen)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.engine import Engine

from bot.db.engine import database_engine
from bot.kb.log import KbLog
from bot.settings import Settings
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

