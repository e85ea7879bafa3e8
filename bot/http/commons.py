"""Common problems and policy-blockage reports (bot.proactive.blockage) as the dashboard
and the API offer them: the same checks and answers for both."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from bot.http.keys import BACKEND
from bot.http.responses import ApiError, ticket_view
from bot.proactive.blockage import TWO_ENTERPRISES, ReportRefused, common_problems, report
from bot.stats.labels import level_label
from bot.stats.queries import Filters

MAX_MEMBERS = 500


async def groups(app: web.Application, f: Filters) -> dict[str, Any]:
    backend = app[BACKEND]
    return {"groups": await asyncio.to_thread(common_problems, backend.engine,
                                              backend.service, f)}


async def make_report(app: web.Application, body: dict[str, Any], actor: str) -> dict[str, Any]:
    """``{"members": [ticket numbers]}`` → a policy-blockage report one level up (or the
    one these tickets are already in)."""
    members = body.get("members")
    if not isinstance(members, list) or len(members) > MAX_MEMBERS \
            or not all(isinstance(m, str) and 0 < len(m) <= 32 for m in members):
        raise ApiError(400, "invalid", "请选择要上报的共性问题。",
                       f"members must be a list of up to {MAX_MEMBERS} ticket numbers")
    if len(set(members)) < 2:
        raise ApiError(400, "invalid", TWO_ENTERPRISES, "fewer than two tickets")
    try:
        ticket, made = await asyncio.to_thread(report, app[BACKEND].service, members, actor)
    except ReportRefused as err:
        raise ApiError(400, "invalid", err.chinese, str(err)) from None
    where = level_label(ticket.department, ticket.level)
    message = (f"已生成堵点上报工单 {ticket.number}，提交{where}协调办理。" if made
               else f"这些诉求已上报过：工单 {ticket.number}，{where}。")
    return {"report": ticket_view(ticket), "made": made, "message": message}
