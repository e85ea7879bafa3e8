"""What the actions share: the ticket back end (``actions.services``), who is asking, and
how a database call is made from an action."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from rasa_sdk import Tracker
from sqlalchemy.exc import SQLAlchemyError

from actions.services import services
from bot.parsing import label_name
from bot.taxonomy import taxonomy
from bot.tickets.factory import Backend
from bot.tickets.model import CHINA, STATUS_NAMES, Ticket

logger = logging.getLogger(__name__)
T = TypeVar("T")


def ticket_backend() -> Backend:
    """The process's ticket back end (``actions.services``)."""
    return services().backend()


def channel_of(tracker: Tracker) -> str:
    return tracker.get_latest_input_channel() or "rest"


def sender_key(tracker: Tracker) -> str:
    """The user's identity for tickets, namespaced by channel (rest:…, wechat:…)."""
    channel = channel_of(tracker)
    sender = tracker.sender_id
    return sender if sender.startswith(f"{channel}:") else f"{channel}:{sender}"


async def log_demand(tracker: Tracker) -> None:
    """Count the latest message as a demand in the statistics (never fails the turn)."""
    from bot.stats.log import record_demand

    m = tracker.latest_message
    domain = label_name(m.get("domain"))
    if not domain:
        return
    regions = [e["value"] for e in m.get("entities", []) if e.get("entity") == "region"]
    try:
        await database_call(
            record_demand, ticket_backend().engine, label_name(m.get("intent")) or "", domain,
            label_name(m.get("subtopic")), regions[0] if regions else tracker.get_slot("region"),
            channel_of(tracker), m.get("text") or "")
    except SQLAlchemyError as err:
        logger.warning("Demand not counted: %s", type(err).__name__)


def masked_mobile(mobile: str | None) -> str:
    return f"{mobile[:3]}****{mobile[-4:]}" if mobile and len(mobile) == 11 else "—"


def describe(ticket: Ticket) -> str:
    """A ticket's progress as the enterprise sees it (mobile masked)."""
    lines = [f"工单号：{ticket.number}",
             f"诉求领域：{taxonomy().label(ticket.domain, ticket.subtopic)}",
             f"办理状态：{STATUS_NAMES.get(ticket.status.value, ticket.status.value)}",
             f"承办部门：{ticket.department or '待分派'}",
             f"登记时间：{ticket.created_at.astimezone(CHINA):%Y年%m月%d日}"]
    if ticket.is_open and ticket.resolution_due:
        lines.append(f"办结时限：{ticket.resolution_due:%Y年%m月%d日}")
    return "\n".join(lines)



async def database_call(function: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """A call into the ticket database from an action. On a database server it runs in a
    worker thread: it waits on the network, and the event loop serves other turns
    meanwhile. On SQLite (a local file) it runs inline: measured with 20 clients on two
    cores, threads only added contention for the GIL and for SQLite's single writer
    (docs/performance.md)."""
    if ticket_backend().engine.dialect.name == "sqlite":
        return function(*args, **kwargs)
    return await asyncio.to_thread(function, *args, **kwargs)
