"""Staff replies to handed-over conversations (转人工) and policy notices, inside the
Rasa server.

``POST /webhooks/staff/reply?token=…`` with ``{"conversation_id", "text", "agent"}``
(the web application's console calls it; Rasa's HTTP API token is required). Under the
conversation's lock the reply is appended to the conversation as the assistant's
message, marked ``{"staff": agent}`` in its metadata, so the history stays whole; then
it is delivered on the conversation's own channel: pushed through the platform's
customer-service message API on WeChat and WeCom, fetched by the web chat's polling on
the REST channel. The conversation stays paused: the assistant does not answer until
staff hand it back or the user ends the hand-over (不用人工了).

``POST /webhooks/staff/notice?token=…`` with ``{"conversation_id", "text", "card":
{"doc_id", "title", "benefit", "deadline", "url"}}`` (the web application's policy
delivery, ``bot/proactive``): the notice is appended the same way, marked ``{"notice":
doc_id}``, and sent as a template message on WeChat (``notice_template_id`` in its
credentials), an app message on WeCom, kept for the web chat's polling on REST.
"""

from __future__ import annotations

import hmac
import logging
import os
from collections.abc import Awaitable, Callable
from typing import Any

from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.wxbase import WxChannel
from bot.tickets.handoffs import delivery_of

logger = logging.getLogger(__name__)

MAX_TEXT = 1000
MAX_NOTICE = 2000
#: what a notice card says besides its text (a WeChat template's fields, the link)
CARD = ("doc_id", "title", "benefit", "deadline", "url")
#: how the user sees that a person wrote (every channel)
PREFIX = "【人工客服】"


def pushing_channel(request: Request, channel: str | None) -> WxChannel | None:
    """The WeChat / WeCom channel a message to a user of ``channel`` is pushed through."""
    if delivery_of(channel) != "push":
        return None
    return next((c for c in request.app.ctx.input_channels
                 if isinstance(c, WxChannel) and c.name() == channel), None)


class StaffInput(InputChannel):
    def __init__(self, token: str | None = None) -> None:
        self.token = token if token is not None else os.environ.get("GOVBOT_RASA_TOKEN", "")

    @classmethod
    def name(cls) -> str:
        return "staff"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> StaffInput:
        return cls((credentials or {}).get("token"))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        staff = Blueprint("staff_webhook", __name__)

        @staff.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @staff.route("/reply", methods=["POST"])
        async def reply(request: Request) -> HTTPResponse:
            body = self.body(request)
            if isinstance(body, HTTPResponse):
                return body
            cid, text = body.get("conversation_id"), body.get("text")
            agent = str(body.get("agent") or "staff")[:64]
            if not isinstance(cid, str) or not cid or not isinstance(text, str) \
                    or not text.strip() or len(text) > MAX_TEXT:
                return response.json({"error": "invalid_reply"}, status=400)
            return response.json(await self.deliver(request, cid, PREFIX + text.strip(), agent))

        @staff.route("/notice", methods=["POST"])
        async def notice(request: Request) -> HTTPResponse:
            body = self.body(request)
            if isinstance(body, HTTPResponse):
                return body
            cid, text, card = body.get("conversation_id"), body.get("text"), body.get("card")
            if not isinstance(cid, str) or not cid or not isinstance(text, str) \
                    or not text.strip() or len(text) > MAX_NOTICE or not isinstance(card, dict):
                return response.json({"error": "invalid_notice"}, status=400)
            card = {k: str(card.get(k) or "")[:300] for k in CARD}
            return response.json(await self.notify(request, cid, text.strip(), card))

        return staff

    async def notify(self, request: Request, cid: str, text: str,
                     card: dict[str, str]) -> dict[str, Any]:
        """A policy notice: appended to the conversation (so a question that follows
        it — "怎么申报" — is about that policy) and sent on the user's channel."""
        rasa = request.app.ctx.agent
        async with rasa.lock_store.lock(cid):
            tracker = await rasa.tracker_store.retrieve(cid)
            if tracker is None:
                return {"error": "no_conversation"}
            turns = sum(isinstance(e, UserUttered) for e in tracker.events)
            tracker.update(BotUttered(text, metadata={"notice": card["doc_id"]}))
            tracker.update(SlotSet("policy_topic", {"doc_id": card["doc_id"],
                                                    "question": card["title"],
                                                    "turn": turns, "notice": True}))
            await rasa.tracker_store.save(tracker)
        channel = tracker.get_latest_input_channel()
        wx = pushing_channel(request, channel)
        delivered = await wx.notify(cid, text, card) if wx else delivery_of(channel) != "push"
        return {"channel": channel, "delivery": delivery_of(channel), "delivered": delivered}

    def body(self, request: Request) -> dict[str, Any] | HTTPResponse:
        """The request's JSON object, or the error answer (no token: 401; no object: 400)."""
        given = request.args.get("token") or ""
        if not self.token or not hmac.compare_digest(given, self.token):
            return response.json({"error": "unauthorized"}, status=401)
        try:
            body = request.json
        except Exception:  # noqa: BLE001 - Sanic raises its own error for bad JSON
            body = None
        if not isinstance(body, dict):
            return response.json({"error": "invalid_json"}, status=400)
        return body

    async def deliver(self, request: Request, cid: str, text: str,
                      agent: str) -> dict[str, Any]:
        rasa = request.app.ctx.agent
        async with rasa.lock_store.lock(cid):
            tracker = await rasa.tracker_store.retrieve(cid)
            if tracker is None:
                return {"error": "no_conversation"}
            tracker.update(BotUttered(text, metadata={"staff": agent}))
            await rasa.tracker_store.save(tracker)
        channel = tracker.get_latest_input_channel()
        wx = pushing_channel(request, channel)
        delivered = await wx.push(cid, [{"text": text}]) if wx \
            else delivery_of(channel) != "push"  # the web chat fetches it (REST channel)
        if not delivered:
            logger.warning("Staff reply kept in the conversation but not pushed (%s)", channel)
        return {"channel": channel, "delivery": delivery_of(channel), "delivered": delivered}
