"""What staff do with a conversation handed over to them, from the API or the console:
reply on the user's channel (noted on the enterprise's open ticket) and hand it back."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from typing import Any

from aiohttp import web

from bot.http.keys import BACKEND, NOTIFIER
from bot.http.responses import ApiError
from bot.tickets.handoffs import Handoff
from bot.tickets.model import TicketError

MAX_REPLY = 1000  # characters of a staff reply (bot/channels/staff.py takes as many)


async def waiting_handoff(app: web.Application, raw: str) -> Handoff:
    """The open hand-off ``raw`` (its id from the URL): 404 unknown, 409 closed."""
    try:  # a database integer: at most 9 digits here
        handoff = await asyncio.to_thread(app[BACKEND].handoffs.get, int(raw)) \
            if raw.isdigit() and len(raw) <= 9 else None
    except TicketError:
        handoff = None
    if handoff is None:
        raise ApiError(404, "not_found", "没有找到该转人工记录。", f"no hand-off {raw[:20]}")
    if handoff.closed_at is not None:
        raise ApiError(409, "closed", "该会话的人工服务已结束。",
                       f"hand-off {handoff.id} was closed by {handoff.closed_by}")
    return handoff


async def reply_to_handoff(app: web.Application, raw: str, text: Any,
                           actor: str) -> dict[str, Any]:
    """A staff reply to a waiting conversation, delivered on the user's channel and
    noted on the enterprise's open ticket (the API and the console share this)."""
    handoff = await waiting_handoff(app, raw)
    if not isinstance(text, str) or not text.strip() or len(text) > MAX_REPLY:
        raise ApiError(400, "invalid", f"请输入回复内容（不超过{MAX_REPLY}字）。",
                       "reply text missing or too long")
    sent = await app[NOTIFIER].staff_reply(handoff.conversation_id, text.strip(), actor)
    if sent is None:
        raise ApiError(503, "unavailable", "回复暂时无法发送，请稍后重试。",
                       "the Rasa server did not take the staff reply")
    if handoff.number:
        await asyncio.to_thread(app[BACKEND].service.store.add_note, handoff.number, actor,
                                f"人工回复：{text.strip()}", kind="handoff")
    return {"handoff": asdict(handoff), **sent}


async def end_handoff(app: web.Application, raw: str, actor: str) -> dict[str, Any]:
    """Staff are done: close the hand-off and give the conversation back to the bot."""
    handoff = await waiting_handoff(app, raw)
    handoff = await asyncio.to_thread(app[BACKEND].handoffs.close, handoff.id, actor)
    resumed = await app[NOTIFIER].resume(handoff.conversation_id)
    return {"handoff": asdict(handoff), "conversation_resumed": resumed}
