"""Showing a ticket to someone who is not its sender: the ticket number plus the last four
digits of the registered mobile, with one limit per ticket number.

The limit is kept in the database, so it holds across senders, channels (chat, status
page), client addresses and processes: five wrong tails for one number within 24 hours
stop look-ups of that number until the window has passed (10,000 possible tails at five a
day). An unknown number answers exactly like a wrong tail, and counts the same, so the
look-up never tells whether a ticket exists.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from bot.db.schema import lookup_failures
from bot.tickets.model import Ticket, TicketNotFound
from bot.tickets.store import TicketStore

MAX_FAILURES = 5
WINDOW = timedelta(hours=24)
#: what the user is told (chat and status page say the same)
LOOKUP_FAILED = ("工单号或手机号后四位不正确，无法显示该工单。"
                 "请核对后重试，或拨打 12345 政务服务热线查询。")
LOOKUP_BLOCKED = ("该工单号的核对失败次数过多，为保护企业信息已暂停查询（24小时后恢复）。"
                  "请拨打 12345 政务服务热线查询。")


class LookupBlocked(Exception):
    """Too many wrong tails for this ticket number recently."""


def key(number: str) -> str:
    """A ticket number as the limit counts it (qz-… and QZ-… are one number)."""
    return number.strip().upper()[:32]


class TicketLookup:
    def __init__(self, engine: Engine, store: TicketStore,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.engine, self.store, self.clock = engine, store, clock

    def blocked(self, number: str) -> bool:
        with self.engine.connect() as conn:
            n = conn.execute(select(func.count()).select_from(lookup_failures).where(
                lookup_failures.c.number == key(number),
                lookup_failures.c.at >= self.clock() - WINDOW)).scalar_one()
        return n >= MAX_FAILURES

    def check(self, number: str, tail: str, channel: str) -> Ticket | None:
        """The ticket when ``tail`` is its mobile's last four digits; None for a wrong tail
        or an unknown number (recorded); ``LookupBlocked`` after too many failures."""
        number = key(number)
        if self.blocked(number):
            raise LookupBlocked(number)
        try:
            ticket = self.store.get(number)
        except TicketNotFound:
            ticket = None
        mobile = (ticket.enterprise.mobile or "") if ticket else ""
        if ticket and len(tail) == 4 and len(mobile) >= 4 \
                and hmac.compare_digest(mobile[-4:], tail):
            return ticket
        with self.engine.begin() as conn:
            conn.execute(insert(lookup_failures).values(at=self.clock(), number=number,
                                                        channel=channel[:16]))
        return None
