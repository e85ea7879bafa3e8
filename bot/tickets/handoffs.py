"""Conversations handed over to a person (``request_human``) until staff take them back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine, Row

from bot.db.schema import handoffs
from bot.db.times import as_utc
from bot.tickets.model import TicketError


def delivery_of(channel: str | None) -> str:
    """How a staff reply reaches a user of ``channel``: pushed by the platform (WeChat,
    WeCom) or fetched by the web chat's polling."""
    return "push" if channel in ("wechat", "wecom") else "polling"


@dataclass(frozen=True)
class Handoff:
    id: int
    sender_id: str
    conversation_id: str
    channel: str
    number: str | None  # the enterprise's open ticket, if any
    text: str  # what the user said when asking for a person
    at: datetime
    closed_at: datetime | None = None
    closed_by: str | None = None


def _handoff(row: Row) -> Handoff:
    return Handoff(row.id, row.sender_id, row.conversation_id, row.channel, row.number,
                   row.text, as_utc(row.at), as_utc(row.closed_at), row.closed_by)


class HandoffStore:
    def __init__(self, engine: Engine,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.engine, self.clock = engine, clock

    def open(self, sender_id: str, conversation_id: str, channel: str, text: str,
             number: str | None = None) -> Handoff:
        """Queue the conversation for staff; a sender already waiting is not queued twice."""
        with self.engine.begin() as conn:
            row = conn.execute(select(handoffs).where(handoffs.c.sender_id == sender_id,
                                                      handoffs.c.closed_at.is_(None))).first()
            if row is None:
                new_id = conn.execute(insert(handoffs).values(
                    sender_id=sender_id, conversation_id=conversation_id, channel=channel,
                    number=number, text=text, at=self.clock())).inserted_primary_key[0]
                row = conn.execute(select(handoffs).where(handoffs.c.id == new_id)).first()
        return _handoff(row)

    def waiting(self, limit: int = 100) -> list[Handoff]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(handoffs).where(handoffs.c.closed_at.is_(None))
                                .order_by(handoffs.c.at).limit(limit)).all()
        return [_handoff(r) for r in rows]

    def get(self, handoff_id: int) -> Handoff:
        with self.engine.connect() as conn:
            row = conn.execute(select(handoffs).where(handoffs.c.id == handoff_id)).first()
        if row is None:
            raise TicketError(f"no hand-off {handoff_id}")
        return _handoff(row)

    def close(self, handoff_id: int, actor: str) -> Handoff:
        with self.engine.begin() as conn:
            done = conn.execute(update(handoffs).where(handoffs.c.id == handoff_id,
                                                       handoffs.c.closed_at.is_(None))
                                .values(closed_at=self.clock(), closed_by=actor)).rowcount
        handoff = self.get(handoff_id)
        if not done:
            raise TicketError(f"hand-off {handoff_id} was closed already by "
                              f"{handoff.closed_by}")
        return handoff

    def close_for(self, sender_id: str) -> int:
        """The user ended the hand-over: close the sender's waiting hand-offs (how many)."""
        with self.engine.begin() as conn:
            return conn.execute(update(handoffs).where(handoffs.c.sender_id == sender_id,
                                                       handoffs.c.closed_at.is_(None))
                                .values(closed_at=self.clock(), closed_by=sender_id)).rowcount
