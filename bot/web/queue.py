"""A department handler's queue (``/queue``): the department's open tickets and the same
operations as the department API, with the session of a signed-in handler."""

from __future__ import annotations

import asyncio

from aiohttp import web

from bot.api.app import BACKEND, NOTIFIER, ApiError, check_department, respond, ticket_view
from bot.taxonomy import taxonomy
from bot.tickets.store import Query
from bot.web.app import json_object, need, page


async def queue_page(request: web.Request) -> web.Response:
    s = need(request, "handler", "admin")
    department = s.user.department if s.user.role == "handler" else None
    found, total = await asyncio.to_thread(
        request.app[BACKEND].service.store.query,
        Query(department=department, status=("assigned", "in_progress", "escalated",
                                             "reopened"), limit=200))
    return page(request, "queue.html", tickets=found, total=total, department=department,
                label=taxonomy().label)


async def queue_action(request: web.Request) -> web.Response:
    s = need(request, "handler", "admin")
    number, action = request.match_info["number"], request.match_info["action"]
    b = await json_object(request)
    service = request.app[BACKEND].service
    check_department(s.user.role, s.user.department,
                     await asyncio.to_thread(service.store.get, number))
    try:
        version = int(b.get("version", -1))
    except (TypeError, ValueError):
        raise ApiError(400, "invalid", "工单版本号有误，请刷新页面后重试。",
                       f"bad version {b.get('version')!r}") from None
    if action == "accept":
        changed = await asyncio.to_thread(service.accept, number, s.user.actor, version)
    elif action == "resolve":
        changed = await asyncio.to_thread(service.resolve, number, s.user.actor, version,
                                          str(b.get("reply") or ""))
    else:
        raise ApiError(404, "not_found", "没有这个操作。", f"unknown action {action}")
    await request.app[NOTIFIER].ticket_changed(changed)
    return respond({"ticket": ticket_view(changed)})


def add_queue_routes(app: web.Application) -> None:
    app.router.add_get("/queue", queue_page)
    app.router.add_post("/web/tickets/{number}/{action}", queue_action)
