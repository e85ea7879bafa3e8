"""The sender's own tickets, as the follow-up actions find them: the numbers in the
message, one ticket, the sender's tickets in given statuses, the one a follow-up is
about."""

from __future__ import annotations

import logging

from rasa_sdk import Tracker

from actions.backend import sender_key, ticket_backend
from bot.entities import find_ticket_numbers
from bot.tickets.model import Ticket, TicketNotFound
from bot.tickets.store import Query

logger = logging.getLogger(__name__)


OPEN = ("assigned", "in_progress", "escalated", "returned", "reopened", "submitted")
UNAVAILABLE = "抱歉，工单系统暂时无法查询，请稍后再试，或拨打 12345 政务服务热线。"
NO_SUCH_TICKET = ("没有找到您本人登记的工单 {number}。请核对工单号；"
                  "他人登记或通过电话等其他渠道登记的工单，请发送“查询工单 工单号”"
                  "并按提示核对手机号后四位，或拨打 12345。")


def numbers_in(tracker: Tracker) -> list[str]:
    found = [e["value"] for e in tracker.latest_message.get("entities", [])
             if e.get("entity") == "ticket_number"]
    return found or find_ticket_numbers(tracker.latest_message.get("text") or "")


def own_ticket(tracker: Tracker, number: str) -> Ticket | None:
    """The ticket ``number`` if this sender registered it; None for someone else's and for
    an unknown number alike (nothing here tells whether a number exists)."""
    try:
        ticket = ticket_backend().service.store.get(number)
    except TicketNotFound:
        return None
    return ticket if ticket.sender_id == sender_key(tracker) else None


def own_tickets(tracker: Tracker, *statuses: str, limit: int = 5) -> list[Ticket]:
    found, _ = ticket_backend().service.store.query(
        Query(sender_id=sender_key(tracker), status=statuses or None, limit=limit))
    return sorted(found, key=lambda t: t.created_at, reverse=True)


def target_ticket(tracker: Tracker, statuses: tuple[str, ...]) -> tuple[Ticket | None, str | None]:
    """The ticket a follow-up is about: the number in the message (if it is the sender's
    own), else the sender's only ticket in one of ``statuses``; or a reason why not
    (with several candidates the reason is empty: the caller asks which one)."""
    numbers = numbers_in(tracker)
    if numbers:
        ticket = own_ticket(tracker, numbers[0])
        return (ticket, None) if ticket else (None, NO_SUCH_TICKET.format(number=numbers[0]))
    mine = own_tickets(tracker, *statuses, limit=5)
    if len(mine) > 1:
        return None, ""
    return (mine[0], None) if mine else (None, None)
