"""The WeCom (企业微信) self-built app channel: ``/webhooks/wecom/webhook``.

Credentials (credentials.yml, key ``bot.channels.wecom.WeComInput``): ``token``,
``corp_id``, ``agent_id``, ``secret``, ``encoding_aes_key`` (WeCom always
encrypts); optional ``reply_budget``, ``timestamp_window``, ``redis_url``,
``api_base``. See docs/channels.md.
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


class WeComInput(WxChannel):
    def __init__(self, token: str, api: PlatformApi, state: ChannelState, cipher: Cipher,
                 agent_id: str, **options: Any) -> None:
        super().__init__(token, api, state, **options)
        self.cipher, self.agent_id = cipher, agent_id

    @classmethod
    def name(cls) -> str:
        return "wecom"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> WeComInput:
        c = credentials or {}
        missing = [k for k in ("token", "corp_id", "agent_id", "secret", "encoding_aes_key")
                   if not c.get(k)]
        if missing:
            raise ValueError(f"wecom channel: missing credentials {', '.join(missing)}")
        state = make_state(c.get("redis_url"))
        api = PlatformApi(PlatformConfig("wecom", str(c.get("api_base") or
                                                      "https://qyapi.weixin.qq.com"),
                                         str(c["corp_id"]), str(c["secret"]),
                                         str(c["agent_id"])), state, undelivered_file())
        return cls(str(c["token"]), api, state, Cipher(str(c["encoding_aes_key"]),
                                                       str(c["corp_id"])),
                   str(c["agent_id"]), reply_budget=float(c.get("reply_budget", 4.0)),
                   timestamp_window=int(c.get("timestamp_window", 300)))

    def verify(self, request: Request) -> str:
        a = request.args
        check_timestamp(a.get("timestamp"), self.timestamp_window)
        echo = a.get("echostr", "")
        check_signature(a.get("msg_signature"), self.token, a.get("timestamp", ""),
                        a.get("nonce", ""), echo)
        return self.cipher.decrypt(echo)

    def read(self, request: Request) -> tuple[Inbound, Callable[[str], str]]:
        a = request.args
        body, timestamp, nonce = self.checked(request)
        encrypted = parse_xml(body).get("Encrypt", "")
        if not encrypted:
            raise ProtocolError("WeCom callback without Encrypt")
        check_signature(a.get("msg_signature"), self.token, timestamp, nonce, encrypted)
        fields = parse_xml(self.cipher.decrypt(encrypted).encode("utf-8"))
        if fields.get("AgentID") and fields["AgentID"] != self.agent_id:
            raise ProtocolError("message for another agent id")
        message = inbound(fields)
        return message, lambda content: encrypted_reply(
            self.cipher, self.token, text_reply(message.user, message.account, content), nonce)
