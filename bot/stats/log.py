"""Recording each recognised demand (the conversation side of the statistics)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from bot.tickets.schema import demands


def record_demand(engine: Engine, intent: str, domain: str, subtopic: str | None,
                  region: str | None, channel: str, text: str) -> None:
    with engine.begin() as conn:
        conn.execute(insert(demands).values(
            at=datetime.now(timezone.utc), intent=intent, domain=domain, subtopic=subtopic,
            region=region, channel=channel, text=text[:1000]))
