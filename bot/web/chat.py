"""The enterprise's web chat: the REST channel proxied (so the page makes no
cross-origin calls), and a poller for messages the bot sends on its own."""

from __future__ import annotations

import asyncio
import json

import aiohttp
from aiohttp import web

from bot.web.site import RASA, page


async def chat_page(request: web.Request) -> web.Response:
    return page(request, "chat.html")


async def chat_send(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return web.json_response({"error": "请求格式有误。"}, status=400)
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not 8 <= len(sender) <= 64 or not sender.isalnum() \
            or not isinstance(message, str) or len(message) > 2000:
        return web.json_response({"error": "请求格式有误。"}, status=400)
    url = f"{request.app[RASA].base}/webhooks/rest/webhook"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session, \
                session.post(url, json={"sender": f"web{sender}", "message": message}) as r:
            replies = await r.json(content_type=None) if r.status == 200 else None
    except (aiohttp.ClientError, asyncio.TimeoutError):
        replies = None
    if not isinstance(replies, list):
        return web.json_response([{"text": "抱歉，系统暂时无法处理您的消息，请稍后重试；"
                                           "紧急事项请拨打 12345 政务服务热线。"}])
    return web.json_response([{"text": r.get("text", ""), "buttons": r.get("buttons", [])}
                              for r in replies])


async def chat_updates(request: web.Request) -> web.Response:
    """Messages sent on their own since ``after`` — ticket notifications and the rating
    question, staff replies to a handed-over conversation, policy notices: the web chat
    polls this, since the REST channel cannot push."""
    sender = request.query.get("sender", "")
    try:
        after = float(request.query.get("after", "0"))
    except ValueError:
        after = 0.0
    if not 8 <= len(sender) <= 64 or not sender.isalnum():
        return web.json_response({"error": "请求格式有误。"}, status=400)
    url = request.app[RASA].url(f"/conversations/web{sender}/tracker")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session, \
                session.get(url) as r:
            events = (await r.json()).get("events", []) if r.status == 200 else []
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        events = []
    pushed, external, latest = [], False, after
    for e in events:
        if e.get("event") == "user":
            external = str(e.get("text") or "").startswith("EXTERNAL:")
        elif e.get("event") == "bot" and e.get("timestamp", 0) > after and (
                external or any(k in (e.get("metadata") or {}) for k in ("staff", "notice"))):
            data = e.get("data") or {}
            pushed.append({"text": e.get("text") or "", "buttons": data.get("buttons") or []})
            latest = max(latest, e["timestamp"])
    return web.json_response({"messages": pushed, "after": latest})


def add_chat_routes(app: web.Application) -> None:
    app.router.add_get("/chat", chat_page)
    app.router.add_post("/chat/send", chat_send)
    app.router.add_get("/chat/updates", chat_updates)
