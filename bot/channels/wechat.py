"""The WeChat Official Account (公众号) channel: ``/webhooks/wechat/webhook``.

Credentials (credentials.yml, key ``bot.channels.wechat.WeChatInput``): ``token``,
``app_id``, ``app_secret``, ``encoding_aes_key`` (absent → plaintext mode only);
optional ``reply_budget`` (seconds, 4), ``timestamp_window`` (seconds, 300),
``redis_url`` (share dedup and tokens between replicas), ``api_base``.
Plaintext, compatible and safe (AES) modes are accepted; the reply uses the mode
of the request. See docs/channels.md.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sanic.request import Request

from bot.channels.wxapi import PlatformApi, PlatformConfig
from bot.channels.wxbase import WxChannel, undelivered_file
from bot.channels.wxprotocol import (
    Cipher,
    Inbound,
    ProtocolError,
    check_signature,
    check_timestamp,
    encrypted_reply,
    inbound,
    parse_xml,
    text_reply,
)
from bot.channels.wxstate import ChannelState, make_state

#: the policy notice template's fields: which part of the notice goes in which keyword
#: (the template chosen in the Official Account's back office; docs/channels.md)
NOTICE_FIELDS = {"title": "keyword1", "benefit": "keyword2", "deadline": "keyword3"}
TEMPLATE_VALUE_CHARS = 20  # the platform's limit for a "thing" value


class WeChatInput(WxChannel):
    def __init__(self, token: str, api: PlatformApi, state: ChannelState,
                 cipher: Cipher | None, notice_template: str | None = None,
                 notice_fields: dict[str, str] | None = None, **options: Any) -> None:
        super().__init__(token, api, state, **options)
        self.cipher = cipher
        self.notice_template = notice_template
        self.notice_fields = notice_fields or NOTICE_FIELDS

    async def notify(self, sender_id: str, text: str, card: dict[str, str]) -> bool:
        """A policy notice as a template message (the Official Account's only way to
        reach a follower outside the 48-hour window); without a template configured, as
        a customer-service message, which the platform takes within the window only."""
        if not self.notice_template:
            return await super().notify(sender_id, text, card)

        def short(value: str) -> str:
            return value if len(value) <= TEMPLATE_VALUE_CHARS else \
                value[:TEMPLATE_VALUE_CHARS - 1] + "…"
        fields = {key: short(card.get(part) or "—") for part, key in self.notice_fields.items()}
        return await self.api.send_template(self.user_of(sender_id), self.notice_template,
                                            fields, card.get("url") or None, text)

    @classmethod
    def name(cls) -> str:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeChatInput:
        c = credentials or {}
        missing = [k for k in ("token", "app_id", "app_secret") if not c.get(k)]
        if missing:
            raise ValueError(f"wechat channel: missing credentials {', '.join(missing)}")
        state = make_state(c.get("redis_url"))
        api = PlatformApi(PlatformConfig("wechat", str(c.get("api_base") or
                                                       "https://api.weixin.qq.com"),
                                         str(c["app_id"]), str(c["app_secret"])),
                          state, undelivered_file())
        aes = c.get("encoding_aes_key")
        fields = c.get("notice_template_fields")
        if fields is not None and (not isinstance(fields, dict) or set(fields) - set(
                NOTICE_FIELDS)):
            raise ValueError("wechat channel: notice_template_fields maps title, benefit "
                             "and deadline to the template's keywords")
        return cls(str(c["token"]), api, state, Cipher(str(aes), str(c["app_id"])) if aes
                   else None, notice_template=c.get("notice_template_id") or None,
                   notice_fields={**NOTICE_FIELDS, **(fields or {})},
                   reply_budget=float(c.get("reply_budget", 4.0)),
                   timestamp_window=int(c.get("timestamp_window", 300)))

    def verify(self, request: Request) -> str:
        a = request.args
        check_timestamp(a.get("timestamp"), self.timestamp_window)
        check_signature(a.get("signature"), self.token, a.get("timestamp", ""),
                        a.get("nonce", ""))
        return a.get("echostr", "")

    def read(self, request: Request) -> tuple[Inbound, Callable[[str], str]]:
        a = request.args
        body, timestamp, nonce = self.checked(request)
        check_signature(a.get("signature"), self.token, timestamp, nonce)
        fields = parse_xml(body)
        if a.get("encrypt_type") == "aes" or (fields.get("Encrypt") and "MsgType" not in fields):
            if self.cipher is None:
                raise ProtocolError("encrypted message, but no encoding_aes_key is configured")
            encrypted = fields.get("Encrypt", "")
            check_signature(a.get("msg_signature"), self.token, timestamp, nonce, encrypted)
            message = inbound(parse_xml(self.cipher.decrypt(encrypted).encode("utf-8")))
            cipher = self.cipher
            return message, lambda content: encrypted_reply(
                cipher, self.token, text_reply(message.user, message.account, content), nonce)
        message = inbound(fields)
        return message, lambda content: text_reply(message.user, message.account, content)
