"""The REST channel (``/webhooks/rest/webhook``) with input validation.

Rasa's own ``RestInput`` answers a JSON array body with HTTP 500, gives every
request without a ``sender`` one shared conversation, and returns an empty reply
when a turn fails. This channel rejects malformed requests with HTTP 400 and a
reason (``bot.channels.rest_protocol``), and answers a failed turn with a
"please retry" message, so every accepted message gets an answer (a paused,
handed-over conversation gets "staff will answer").
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.rest_protocol import RETRY_TEXT, BadRequestBody, parse_body

logger = logging.getLogger(__name__)

WAITING_TEXT = "您的消息已转给人工服务，工作人员会尽快回复，请稍候。"


async def _is_paused(request: Request, sender: str) -> bool:
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return False
    tracker = await agent.tracker_store.retrieve(sender)
    return bool(tracker and tracker.is_paused())


class RestInput(RasaRestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                msg = parse_body(request.body or b"")
            except BadRequestBody as err:
                logger.warning("REST request rejected: %s", err.reason)
                return response.json({"error": err.code, "message": err.message},
                                     status=err.status)
            collector = CollectingOutputChannel()
            failed = False
            try:
                await on_new_message(UserMessage(msg.text, collector, msg.sender,
                                                 input_channel=self.name(),
                                                 metadata=msg.metadata))
            except Exception:  # the turn failed; the user still gets an answer
                logger.exception("REST turn failed for a message of %d characters",
                                 len(msg.text))
                failed = True
            replies = collector.messages
            if not failed and not replies and await _is_paused(request, msg.sender):
                # handed over to a person (request_human): staff answer, the bot waits
                return response.json([{"recipient_id": msg.sender, "text": WAITING_TEXT}])
            if failed or not replies:  # a pressed button gets an answer too
                if not failed:
                    logger.warning("REST turn produced no reply (action server down?)")
                replies = [*replies, {"recipient_id": msg.sender, "text": RETRY_TEXT}]
            return response.json(replies)

        return webhook
