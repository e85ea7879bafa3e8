"""Validating REST channel requests: plain functions, no web framework."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

MAX_BODY_BYTES = 64 * 1024  # a 1,000-character message is ~3 KB of UTF-8
MAX_SENDER_CHARS = 128

#: Sent when a turn failed on our side (e.g. the action server is down).
RETRY_TEXT = "抱歉，系统暂时无法处理您的消息，请稍后重试；紧急事项请拨打 12345 政务服务热线。"


class BadRequestBody(ValueError):
    """A request the channel will not process: ``code`` for clients, ``reason`` for logs
    (English), ``message`` for people (Chinese)."""

    def __init__(self, code: str, reason: str, message: str, status: int = 400) -> None:
        super().__init__(reason)
        self.code, self.reason, self.message, self.status = code, reason, message, status


@dataclass(frozen=True)
class RestMessage:
    sender: str
    text: str
    metadata: dict[str, Any] | None


def parse_body(body: bytes) -> RestMessage:
    """``{"sender": "...", "message": "...", "metadata": {...}}`` → RestMessage."""
    if len(body) > MAX_BODY_BYTES:
        raise BadRequestBody("too_large", f"body of {len(body)} bytes exceeds {MAX_BODY_BYTES}",
                             "消息内容过长，请精简后分几次发送。", status=413)
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BadRequestBody("invalid_json", f"body is not UTF-8 JSON ({exc})",
                             "请求格式有误：请以 UTF-8 编码的 JSON 发送消息。") from None
    if not isinstance(data, dict):
        raise BadRequestBody("invalid_json", f"body is a JSON {type(data).__name__}, "
                             "not an object", "请求格式有误：请求体应为 JSON 对象。")
    sender = data.get("sender")
    if not isinstance(sender, str) or not sender.strip() or len(sender) > MAX_SENDER_CHARS:
        raise BadRequestBody("invalid_sender", "missing, empty or over-long 'sender'",
                             "请求缺少会话标识 sender（不超过128个字符），请补充后重试。")
    text = data.get("message")
    if not isinstance(text, str):
        raise BadRequestBody("invalid_message", f"'message' is {type(text).__name__}, "
                             "not a string", "请求缺少文字消息 message，请补充后重试。")
    metadata = data.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise BadRequestBody("invalid_metadata", "'metadata' is not an object",
                             "请求格式有误：metadata 应为 JSON 对象。")
    return RestMessage(sender.strip(), text, metadata)
