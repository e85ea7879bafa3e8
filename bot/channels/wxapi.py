"""Pushing messages through the platforms' HTTPS APIs (replies that missed the 5-second
window, ticket notifications): the access token fetched, cached and refreshed in one
place; the Official Account's 48-hour window respected; what cannot be delivered is
recorded (``undelivered.jsonl`` in the run-time folder) and logged without content."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.channels.wxstate import ChannelState

logger = logging.getLogger(__name__)

TOKEN_ERRORS = {40001, 40014, 42001}  # invalid / expired access token: fetch a new one
WINDOW_48H = 48 * 3600


def masked(user: str) -> str:
    return f"{user[:4]}…{user[-2:]}" if len(user) > 8 else "…"


@dataclass(frozen=True)
class PlatformConfig:
    """What differs between the Official Account and WeCom APIs."""

    kind: str  # "wechat" | "wecom"
    api_base: str
    app_id: str  # appid or corpid
    secret: str
    agent_id: str | None = None  # WeCom only

    def token_url(self) -> str:
        if self.kind == "wecom":
            return f"{self.api_base}/cgi-bin/gettoken?corpid={self.app_id}&corpsecret={self.secret}"
        return (f"{self.api_base}/cgi-bin/token?grant_type=client_credential"
                f"&appid={self.app_id}&secret={self.secret}")

    def send_url(self, token: str) -> str:
        path = "message/send" if self.kind == "wecom" else "message/custom/send"
        return f"{self.api_base}/cgi-bin/{path}?access_token={token}"

    def text_body(self, user: str, text: str) -> dict:
        body = {"touser": user, "msgtype": "text", "text": {"content": text}}
        if self.kind == "wecom":
            body["agentid"] = int(self.agent_id) if (self.agent_id or "").isdigit() \
                else self.agent_id
        return body


class PlatformApi:
    def __init__(self, config: PlatformConfig, state: ChannelState,
                 undelivered_file: Path | None = None, timeout: float = 10.0) -> None:
        self.config, self.state = config, state
        self.undelivered_file = undelivered_file
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._lock = asyncio.Lock()

    @property
    def _token_key(self) -> str:
        return f"token:{self.config.kind}:{self.config.app_id}"

    async def access_token(self, refresh: bool = False) -> str:
        """The cached token, fetched when missing, expired or rejected (``refresh``)."""
        if not refresh and (cached := await self.state.get(self._token_key)):
            return cached
        async with self._lock:  # one fetch per process at a time
            if not refresh and (cached := await self.state.get(self._token_key)):
                return cached
            async with aiohttp.ClientSession(timeout=self.timeout) as session, \
                    session.get(self.config.token_url()) as response:
                body = await response.json(content_type=None)
            token = body.get("access_token")
            if not token:
                raise PushError(f"access token refused: errcode {body.get('errcode')}")
            ttl = max(60, int(body.get("expires_in", 7200)) - 300)  # renew 5 min early
            await self.state.put(self._token_key, token, ttl)
            return token

    async def seen(self, user: str) -> None:
        """The user wrote to us now (opens the Official Account's 48-hour window)."""
        await self.state.put(f"seen:{self.config.kind}:{user}", time.time(), WINDOW_48H)

    async def send_text(self, user: str, text: str) -> bool:
        """Push one text message; False (and recorded) when it cannot be delivered."""
        if self.config.kind == "wechat" and await self.state.get(
                f"seen:{self.config.kind}:{user}") is None:
            self.record(user, text, "outside the 48-hour window of the Official Account")
            return False
        return await self._send(user, text, self.config.send_url,
                                self.config.text_body(user, text))

    async def send_template(self, user: str, template_id: str, fields: dict[str, str],
                            url: str | None, text: str) -> bool:
        """An Official Account template message (no 48-hour window: the user agreed to
        the template); ``text`` is what is recorded if it cannot be delivered."""
        body: dict = {"touser": user, "template_id": template_id,
                      "data": {k: {"value": v} for k, v in fields.items()}}
        if url:
            body["url"] = url
        return await self._send(
            user, text, lambda token: f"{self.config.api_base}/cgi-bin/message/template/send"
                                      f"?access_token={token}", body)

    async def _send(self, user: str, text: str, url_of: Callable[[str], str],
                    body: dict) -> bool:
        """POST ``body`` with the access token (fetched again once if it was rejected)."""
        try:
            for attempt in (0, 1):
                token = await self.access_token(refresh=attempt == 1)
                async with aiohttp.ClientSession(timeout=self.timeout) as session, \
                        session.post(url_of(token),
                                     data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
                                     headers={"Content-Type": "application/json"}) as response:
                    answer = await response.json(content_type=None)
                code = answer.get("errcode", 0)
                if code == 0:
                    return True
                if code not in TOKEN_ERRORS:
                    break
            self.record(user, text, f"errcode {code}: {answer.get('errmsg', '')}")
        except (aiohttp.ClientError, asyncio.TimeoutError, PushError, ValueError) as err:
            self.record(user, text, f"{type(err).__name__}: {err}")
        return False

    def record(self, user: str, text: str, reason: str) -> None:
        logger.warning("%s message to %s not delivered (%d characters): %s", self.config.kind,
                       masked(user), len(text), reason)
        if self.undelivered_file is None:
            return
        self.undelivered_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.undelivered_file, "a", encoding="utf-8") as out:
            out.write(json.dumps({"at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                                  "channel": self.config.kind, "user": user, "text": text,
                                  "reason": reason}, ensure_ascii=False) + "\n")


class PushError(Exception):
    pass
