"""The staff inbox in the console: conversations handed over to a person (转人工), each
with its history and the enterprise's details; an agent replies (delivered on the user's
own channel) and hands the conversation back to the assistant.

    GET  /web/handoffs                  waiting conversations, oldest first
    POST /web/handoffs/{id}/reply       {"text": …}
    POST /web/handoffs/{id}/close       back to the assistant
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from bot.http.handoffs import end_handoff, reply_to_handoff
from bot.http.keys import BACKEND, NOTIFIER
from bot.http.responses import json_object, respond
from bot.stats.labels import CHANNEL_NAMES
from bot.tickets.handoffs import delivery_of
from bot.web.site import need

SHOWN = 20  # conversations shown with their history at once


async def list_handoffs(request: web.Request) -> web.Response:
    need(request, "agent", "admin")
    backend = request.app[BACKEND]
    waiting = await asyncio.to_thread(backend.handoffs.waiting, SHOWN)
    notifier = request.app[NOTIFIER]
    conversations = await asyncio.gather(*(notifier.conversation(h.conversation_id)
                                           for h in waiting))
    now = datetime.now(timezone.utc)
    listed: list[dict[str, Any]] = []
    for h, conversation in zip(waiting, conversations, strict=True):
        listed.append({
            "id": h.id, "channel": CHANNEL_NAMES.get(h.channel, h.channel),
            "delivery": delivery_of(h.channel), "number": h.number, "text": h.text,
            "at": h.at.isoformat(), "waiting_minutes": int((now - h.at).total_seconds() // 60),
            **conversation})
    return respond({"handoffs": listed, "working_hours": backend.service.calendar.staffed(now)})


async def reply(request: web.Request) -> web.Response:
    s = need(request, "agent", "admin")
    body = await json_object(request)
    return respond(await reply_to_handoff(request.app, request.match_info["id"],
                                          body.get("text"), s.user.actor))


async def close(request: web.Request) -> web.Response:
    s = need(request, "agent", "admin")
    return respond(await end_handoff(request.app, request.match_info["id"], s.user.actor))


def add_inbox_routes(app: web.Application) -> None:
    app.router.add_get("/web/handoffs", list_handoffs)
    app.router.add_post("/web/handoffs/{id}/reply", reply)
    app.router.add_post("/web/handoffs/{id}/close", close)
