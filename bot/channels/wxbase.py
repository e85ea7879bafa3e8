"""What the WeChat Official Account and WeCom channels share: turning a callback into a
Rasa message, the 5-second rule, exactly-once processing, and pushing late replies.

The platform waits 5 seconds for the HTTP answer and retries the same message up to
three times. A message is claimed once (by MsgId, events by sender + CreateTime) in
the channel state — memory, or Redis shared by replicas; retries get the empty
acknowledgement at once. The bot's reply is returned in the HTTP answer when it is
ready within ``reply_budget`` seconds; otherwise the answer is the empty
acknowledgement and the reply goes out through the platform's push API when ready.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rasa.core.channels.channel import (
    CollectingOutputChannel,
    InputChannel,
    OutputChannel,
    UserMessage,
)
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.wxapi import PlatformApi, masked
from bot.channels.wxprotocol import (
    MAX_BODY,
    TEXT_LIMIT,
    Inbound,
    ProtocolError,
    check_timestamp,
    chosen_payload,
    split_text,
    with_buttons,
)
from bot.channels.wxstate import ChannelState
from bot.regions import region_table

logger = logging.getLogger(__name__)

ACK = "success"  # the empty acknowledgement both platforms accept
DEDUP_TTL = 300  # seconds: longer than the platform's retries (about 15 s)
BUTTON_TTL = 24 * 3600
UNSUPPORTED = ("目前我只能处理文字和语音消息。请用文字描述您遇到的问题，"
               "例如“我们厂的贷款下个月到期，银行不续贷了”。")
RETRY = "抱歉，系统暂时无法处理您的消息，请稍后重试；紧急事项请拨打 12345 政务服务热线。"
NOT_IN_ZHEJIANG = "已收到您的位置，但它不在浙江省内的县（市、区）。请用文字告诉我企业所在地区。"
#: menu keys (CLICK events) → what the user "says"; other keys are sent as /<key>
MENU = {"help": "/help", "ticket_status": "/ask_ticket_status", "human": "/request_human",
        "policy_match": "/match_policy"}


@dataclass(frozen=True)
class Said:
    text: str
    direct: bool = False  # True: the channel's own reply, Rasa is not asked


def undelivered_file() -> Path:
    var = os.environ.get("GOVBOT_VAR_DIR")
    root = Path(var) if var else Path(os.environ.get("GOVBOT_HOME") or ".") / "var"
    return root / "undelivered.jsonl"


def joined(pieces: list[str]) -> list[str]:
    """Neighbouring texts joined while they fit in one message (fewer pushes, one reply)."""
    out: list[str] = []
    for piece in pieces:
        if out and len((out[-1] + "\n\n" + piece).encode("utf-8")) <= TEXT_LIMIT:
            out[-1] += "\n\n" + piece
        else:
            out.append(piece)
    return out


class PushOutput(OutputChannel):
    """Sends through the platform API (used for late replies and notifications)."""

    def __init__(self, channel: WxChannel) -> None:
        self.channel = channel

    @classmethod
    def name(cls) -> str:
        return "wx-push"

    async def send_text_message(self, recipient_id: str, text: str, **kwargs: Any) -> None:
        await self.channel.push(recipient_id, [{"text": text}])

    async def send_text_with_buttons(self, recipient_id: str, text: str,
                                     buttons: list[dict[str, Any]], **kwargs: Any) -> None:
        await self.channel.push(recipient_id, [{"text": text, "buttons": buttons}])


class WxChannel(InputChannel):
    """Base of ``WeChatInput`` and ``WeComInput``; subclasses read and answer callbacks."""

    kind = "wx"

    def __init__(self, token: str, api: PlatformApi, state: ChannelState,
                 reply_budget: float = 4.0, timestamp_window: int = 300) -> None:
        if not token:
            raise ValueError(f"{self.name()} channel: 'token' is required in the credentials")
        self.token, self.api, self.state = token, api, state
        self.reply_budget, self.timestamp_window = reply_budget, timestamp_window
        self._tasks: set[asyncio.Task] = set()

    # -- identity ---------------------------------------------------------------------
    def sender(self, user: str) -> str:
        return f"{self.name()}:{user}"

    def user_of(self, sender_id: str) -> str:
        return sender_id.removeprefix(f"{self.name()}:")

    def get_output_channel(self) -> OutputChannel:
        return PushOutput(self)

    # -- to be provided by the platform ---------------------------------------------
    def verify(self, request: Request) -> str:
        """The answer to the URL verification GET (raises ProtocolError)."""
        raise NotImplementedError

    def read(self, request: Request) -> tuple[Inbound, Callable[[str], str]]:
        """The message of a POST and a function that wraps a reply XML for the answer."""
        raise NotImplementedError

    def checked(self, request: Request) -> tuple[bytes, str, str]:
        """The body, timestamp and nonce of a callback whose size and age are acceptable."""
        body = request.body or b""
        if len(body) > MAX_BODY:
            raise ProtocolError(f"body larger than {MAX_BODY} bytes", 413)
        timestamp, nonce = request.args.get("timestamp", ""), request.args.get("nonce", "")
        check_timestamp(timestamp, self.timestamp_window)
        return body, timestamp, nonce

    # -- the webhook --------------------------------------------------------------------
    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint(f"{self.name()}_webhook", __name__)

        @hook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            try:
                return response.text(self.verify(request))
            except ProtocolError as err:
                logger.warning("%s URL verification refused: %s", self.name(), err.reason)
                return response.text("", status=err.status)

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                message, wrap = self.read(request)
            except ProtocolError as err:
                logger.warning("%s callback refused: %s", self.name(), err.reason)
                return response.text("", status=err.status)
            return await self.handle(message, wrap, on_new_message)

        return hook

    async def handle(self, message: Inbound, wrap: Callable[[str], str],
                     on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> HTTPResponse:
        if not await self.state.claim(f"{self.name()}:{message.dedup_key}", DEDUP_TTL):
            logger.info("%s retry of %s from %s acknowledged (already handled)", self.name(),
                        message.dedup_key.split(":")[0], masked(message.user))
            return response.text(ACK)
        said = await self.what_is_said(message)
        if said is None:  # nothing for the bot (unsubscribe, view, …)
            return response.text(ACK)
        if said.direct:  # the channel answers itself (e.g. an image)
            return self.answer(message, wrap, [{"text": said.text}])
        text = said.text
        collector = CollectingOutputChannel()
        task = asyncio.create_task(on_new_message(UserMessage(
            text, collector, self.sender(message.user), input_channel=self.name(),
            metadata={"msg_type": message.kind})))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        try:
            await asyncio.wait_for(asyncio.shield(task), self.reply_budget)
        except asyncio.TimeoutError:
            logger.info("%s reply for %s not ready within %.1f s: it will be pushed",
                        self.name(), masked(message.user), self.reply_budget)
            late = asyncio.create_task(self._push_when_done(task, message.user, collector))
            self._tasks.add(late)
            late.add_done_callback(self._tasks.discard)
            return response.text(ACK)
        except Exception:  # the turn failed: the user still hears from us
            logger.exception("%s turn failed", self.name())
            return self.answer(message, wrap, [{"text": RETRY}])
        return await self.answer_async(message, wrap, collector.messages)

    async def _push_when_done(self, task: asyncio.Task, user: str,
                              collector: CollectingOutputChannel) -> None:
        try:
            await task
        except Exception:  # noqa: BLE001 - logged; the user gets "please retry"
            logger.exception("%s turn failed after the reply window", self.name())
            collector.messages.append({"text": RETRY})
        await self.push(self.sender(user), collector.messages)

    # -- replies ----------------------------------------------------------------------
    async def remember_buttons(self, user: str, messages: list[dict[str, Any]]) -> None:
        buttons = [b for m in messages for b in (m.get("buttons") or [])]
        if buttons:
            await self.state.put(f"buttons:{self.name()}:{user}", buttons, BUTTON_TTL)

    @staticmethod
    def render(messages: list[dict[str, Any]]) -> list[str]:
        """Texts to send, buttons listed as numbered options, split to the length limit."""
        texts = [with_buttons(m.get("text") or "", m.get("buttons") or []) for m in messages
                 if m.get("text") or m.get("buttons")]
        return [piece for t in texts for piece in split_text(t)]

    def answer(self, message: Inbound, wrap: Callable[[str], str],
               messages: list[dict[str, Any]]) -> HTTPResponse:
        pieces = self.render(messages)
        if not pieces:
            return response.text(ACK)
        # one passive reply per callback: join what fits, push the rest
        first, *rest = joined(pieces)
        if rest:
            task = asyncio.create_task(self._push_texts(message.user, rest))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return response.text(wrap(first), content_type="application/xml")

    async def answer_async(self, message: Inbound, wrap: Callable[[str], str],
                           messages: list[dict[str, Any]]) -> HTTPResponse:
        await self.remember_buttons(message.user, messages)
        return self.answer(message, wrap, messages)

    async def push(self, sender_id: str, messages: list[dict[str, Any]]) -> bool:
        """Send through the platform API; whether every piece was delivered."""
        user = self.user_of(sender_id)
        await self.remember_buttons(user, messages)
        return await self._push_texts(user, joined(self.render(messages)))

    async def notify(self, sender_id: str, text: str, card: dict[str, str]) -> bool:
        """A message the enterprise did not ask for (a policy notice): pushed as text
        (WeCom app messages; the Official Account overrides this with its template)."""
        return await self.push(sender_id, [{"text": text}])

    async def _push_texts(self, user: str, texts: list[str]) -> bool:
        delivered = True
        for text in texts:
            delivered = await self.api.send_text(user, text) and delivered
        return delivered

    # -- what the user says -------------------------------------------------------------
    async def what_is_said(self, message: Inbound) -> Said | None:
        """The text for Rasa, a reply of the channel itself (``direct``), or None."""
        f = message.fields
        if message.kind != "event":
            await self.api.seen(message.user)
        if message.kind == "text":
            text = f.get("Content", "").strip()
            buttons = await self.state.get(f"buttons:{self.name()}:{message.user}") or []
            payload = chosen_payload(text, buttons)
            if payload:
                await self.state.delete(f"buttons:{self.name()}:{message.user}")
            return Said(payload or text)
        if message.kind == "voice":
            recognised = f.get("Recognition", "").strip()
            return Said(recognised) if recognised else Said(
                "我没有听清这段语音。请用文字描述您的问题。", direct=True)
        if message.kind == "location":
            found = [r for _, _, r in region_table().find(f.get("Label", ""))]
            counties = [r for r in found if r.level == "county"] or found
            if not counties:
                return Said(NOT_IN_ZHEJIANG, direct=True)
            return Said(f'/inform_region{{"region":"{counties[0].name}"}}')
        if message.kind == "event":
            return self.event_said(message)
        return Said(UNSUPPORTED, direct=True)

    def event_said(self, message: Inbound) -> Said | None:
        event = message.fields.get("Event", "").lower()
        key = message.fields.get("EventKey", "")
        if event in ("subscribe", "enter_agent"):
            return Said("/greet")
        if event == "unsubscribe":
            logger.info("%s user %s unsubscribed", self.name(), masked(message.user))
            return None
        if event == "click" and key:
            said = MENU.get(key, f"/{key}" if key.isidentifier() else None)
            return Said(said) if said else None
        return None  # view, scan, location reports, template results …
