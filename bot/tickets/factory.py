"""Building the ticket service from the settings (the one place backends are chosen)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine

from bot.settings import Settings
from bot.tickets import migrate
from bot.tickets.calendar import WorkCalendar
from bot.tickets.routing import load_routing
from bot.tickets.service import TicketService
from bot.tickets.store import SqlTicketStore


def build_service(settings: Settings) -> TicketService:
    """SQLite file by default (created on first use), PostgreSQL by URL; schema migrated."""
    url = settings.ticket_database_url
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, future=True, pool_pre_ping=True)
    migrate.upgrade(engine)
    return TicketService(SqlTicketStore(engine), load_routing(settings.routing_file),
                         WorkCalendar.from_file(settings.holidays_file))
