"""A department handler's queue (``/queue``): the department's open tickets and the same
operations as the department API, with the session of a signed-in handler.

A handler sees only the own department's tickets, with the enterprise's contact in full
(the handler phones the enterprise); an administrator sees every department's. Each
ticket offers what its status allows: 受理 (accept), 办结 (resolve, with the reply to
the enterprise), 退回 (return for rerouting, with a reason) and 提级 (escalate to the
next level up, with a reason).
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from bot.http.handoffs import MAX_REPLY
from bot.http.keys import BACKEND, NOTIFIER
from bot.http.responses import ApiError, check_department, json_object, respond, ticket_view
from bot.regions import region_table
from bot.stats.labels import level_label
from bot.taxonomy import taxonomy
from bot.tickets.model import (
    STATUS_NAMES,
    TRANSITIONS,
    IllegalTransition,
    Status,
    Ticket,
    china_date,
)
from bot.tickets.routing import LEVELS, Route
from bot.tickets.service import TicketService
from bot.tickets.store import Query
from bot.web.site import need, page

#: the statuses a department still has to act on
QUEUE_STATUSES = ("assigned", "in_progress", "escalated", "reopened")
#: page action → the status it moves the ticket to
ACTIONS = {"accept": Status.IN_PROGRESS, "resolve": Status.RESOLVED,
           "return": Status.RETURNED, "escalate": Status.ESCALATED}
ACTION_NAMES = {"accept": "受理", "resolve": "办结", "return": "退回", "escalate": "提级"}
#: actions that need a text: the body field and the field's name in messages
TEXTS = {"resolve": ("reply", "办理结果"), "return": ("reason", "退回原因"),
         "escalate": ("reason", "提级原因")}
DONE = {"accept": "已受理。请联系企业办理，办结时填写办理结果。",
        "resolve": "已办结，办理结果将告知企业。",
        "return": "已退回，等待管理员重新分派。",
        "escalate": "已提级至{target}。"}
LONG_TEXT = 120  # characters of a request shown before "展开全文"


def escalation_target(service: TicketService, t: Ticket) -> Route | None:
    """Where 提级 would send ``t`` (the next level up), or None at the top."""
    region = region_table().get(t.region)
    if region is None or t.level not in LEVELS:
        return None
    return service.rules.escalation_target(region, t.level)


def card(service: TicketService, t: Ticket, role: str, department: str | None) -> dict[str, Any]:
    """What the page shows of a ticket that can change, and the actions it allows."""
    own = role != "handler" or t.department == department
    target = escalation_target(service, t) if own else None
    actions = [a for a, to in ACTIONS.items()
               if own and t.status.value in QUEUE_STATUSES and to in TRANSITIONS[t.status]
               and (a != "escalate" or target is not None)]
    today = china_date(datetime.now(timezone.utc))
    return {"number": t.number, "version": t.version, "status": t.status.value,
            "status_name": STATUS_NAMES.get(t.status.value, "处理中"),
            "department": level_label(t.department, t.level),
            "due": t.resolution_due.isoformat() if t.resolution_due else "—",
            "overdue": bool(t.is_open and t.resolution_due and t.resolution_due < today),
            "actions": actions,
            "escalate_to": level_label(target.department, target.level) if target else None}


async def queue_page(request: web.Request) -> web.Response:
    s = need(request, "handler", "admin")
    department = s.user.department if s.user.role == "handler" else None
    service = request.app[BACKEND].service
    found, total = await asyncio.to_thread(
        service.store.query, Query(department=department, status=QUEUE_STATUSES, limit=200))
    cards = {t.number: card(service, t, s.user.role, department) for t in found}
    return page(request, "queue.html", tickets=found, total=total, department=department,
                cards=cards, label=taxonomy().label, long_text=LONG_TEXT, max_text=MAX_REPLY)


async def queue_action(request: web.Request) -> web.Response:
    s = need(request, "handler", "admin")
    number, action = request.match_info["number"], request.match_info["action"]
    if action not in ACTIONS:
        raise ApiError(404, "not_found", "没有这个操作。", f"unknown action {action}")
    b = await json_object(request)
    service = request.app[BACKEND].service
    ticket = await asyncio.to_thread(service.store.get, number)
    check_department(s.user.role, s.user.department, ticket)
    version = b.get("version")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ApiError(400, "invalid", "工单版本号有误，请刷新页面后重试。",
                       f"bad version {str(version)[:20]!r}")
    text = ""
    if action in TEXTS:  # the service checks too; this names the field in Chinese
        field, name = TEXTS[action]
        text = str(b.get(field) or "").strip()
        if not text:
            raise ApiError(400, "missing_field", f"请填写{name}。", f"missing {field}")
        if len(text) > MAX_REPLY:
            raise ApiError(400, "invalid", f"{name}不能超过{MAX_REPLY}字。",
                           f"{field} longer than {MAX_REPLY}")
    target = escalation_target(service, ticket) if action == "escalate" else None
    if action == "escalate" and target is None:
        raise ApiError(400, "invalid", "该工单已在最高一级（省级），无法再提级。",
                       f"ticket {number} is at the {ticket.level} level")
    actor = s.user.actor
    try:
        if action == "accept":
            changed = await asyncio.to_thread(service.accept, number, actor, version)
        elif action == "resolve":
            changed = await asyncio.to_thread(service.resolve, number, actor, version, text)
        elif action == "return":
            changed = await asyncio.to_thread(service.return_for_rerouting, number, actor,
                                              version, text)
        else:
            changed = await asyncio.to_thread(service.escalate, number, actor, version, text)
    except IllegalTransition as err:  # the API's message names the status by its code
        now = STATUS_NAMES.get(err.current.value, err.current.value)
        raise ApiError(409, "illegal_transition",
                       f"工单当前状态为“{now}”，不能{ACTION_NAMES[action]}。请刷新页面。",
                       str(err)) from None
    await request.app[NOTIFIER].ticket_changed(changed)
    message = DONE[action].format(
        target=level_label(changed.department, changed.level))
    return respond({"ticket": ticket_view(changed), "message": message,
                    "card": card(service, changed, s.user.role, s.user.department
                                 if s.user.role == "handler" else None)})


def add_queue_routes(app: web.Application) -> None:
    app.router.add_get("/queue", queue_page)
    app.router.add_post("/web/tickets/{number}/{action}", queue_action)
