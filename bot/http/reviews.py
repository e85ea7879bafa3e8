"""The centre's review of low ratings (1–2 分): the tickets waiting for it and the
conclusion, as the dashboard and the API offer them."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from bot.http.keys import BACKEND
from bot.http.responses import ApiError, event_view
from bot.taxonomy import taxonomy
from bot.tickets.model import CHINA

MAX_CONCLUSION = 1000


def _pending(app: web.Application) -> list[dict[str, Any]]:
    store = app[BACKEND].service.store
    out = []
    for ticket, review in store.pending_reviews():
        replies = [e.data.get("text", "") for e in store.events(ticket.number)
                   if e.kind == "reply"]
        out.append({"number": ticket.number, "department": ticket.department,
                    "region": ticket.region, "status": ticket.status.value,
                    "subtopic": taxonomy().label(ticket.domain, ticket.subtopic),
                    "rating": review.data.get("rating"), "comment": review.data.get("text"),
                    "at": review.at.astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
                    "reply": replies[-1] if replies else "", "text": ticket.text[:300]})
    return out


async def pending(app: web.Application) -> dict[str, Any]:
    return {"reviews": await asyncio.to_thread(_pending, app)}


async def conclude(app: web.Application, number: str, body: dict[str, Any],
                   actor: str) -> dict[str, Any]:
    conclusion = str(body.get("conclusion") or "").strip()
    if not conclusion:
        raise ApiError(400, "missing_field", "请填写复核意见。", "missing conclusion")
    if len(conclusion) > MAX_CONCLUSION:
        raise ApiError(400, "invalid", f"复核意见不能超过{MAX_CONCLUSION}字。",
                       f"conclusion longer than {MAX_CONCLUSION}")
    event = await asyncio.to_thread(app[BACKEND].service.conclude_review, number, actor,
                                    conclusion)
    return {"event": event_view(event), "message": f"工单 {number} 的复核意见已记录。"}
