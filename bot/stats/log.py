"""Recording each recognised demand (the conversation side of the statistics)."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import insert
from sqlalchemy.engine import Engine

from bot.db.schema import demands
from bot.tickets.model import china_date


def demand_words(text: str) -> str:
    """The distinct words of two or more characters in a demand, space-separated: what
    the dashboard's recurring phrases count (cut once, when the demand is recorded)."""
    from bot.kb import tokens

    return " ".join(dict.fromkeys(w for w in tokens.words(text[:1000]) if len(w) >= 2))


def record_demand(engine: Engine, intent: str, domain: str, subtopic: str | None,
                  region: str | None, channel: str, text: str,
                  at: datetime | None = None) -> None:
    at = at or datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(insert(demands).values(
            at=at, day=china_date(at), intent=intent, domain=domain, subtopic=subtopic,
            region=region, channel=channel, text=text[:1000], words=demand_words(text)))
