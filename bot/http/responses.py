"""JSON answers and JSON errors (``{"error": {"code", "message" (Chinese), "detail"}}``),
and what a caller sees of a ticket."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date, datetime, timezone
from typing import Any

from aiohttp import web

from bot.tickets.model import Event, Status, Ticket, china_date


class ApiError(web.HTTPException):
    """An error answer: HTTP status, a code, a Chinese message, an English detail."""

    def __init__(self, status: int, code: str, message: str, detail: str = "",
                 field: str | None = None) -> None:
        self.status_code = status
        error = {"code": code, "message": message, "detail": detail}
        if field:  # the form field the message is about (pages mark it)
            error["field"] = field
        super().__init__(text=json.dumps({"error": error}, ensure_ascii=False),
                         content_type="application/json")


def _json(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Status):
        return value.value
    raise TypeError(type(value).__name__)


def respond(body: Any, status: int = 200) -> web.Response:
    return web.json_response(body, status=status,
                             dumps=lambda v: json.dumps(v, ensure_ascii=False, default=_json))


def ticket_view(t: Ticket) -> dict[str, Any]:
    view = asdict(t)
    view["overdue"] = bool(t.is_open and t.resolution_due
                           and t.resolution_due < china_date(datetime.now(timezone.utc)))
    return view


def event_view(e: Event) -> dict[str, Any]:
    return asdict(e)


def check_department(role: str, department: str | None, ticket: Ticket) -> None:
    """A department handler works only on its own department's tickets (API and pages)."""
    if role == "handler" and ticket.department != department:
        raise ApiError(403, "forbidden", "该工单不属于您所在的部门。",
                       f"ticket {ticket.number} belongs to {ticket.department}")


async def json_object(request: web.Request) -> dict[str, Any]:
    """The request's JSON body, which must be an object; else HTTP 400 in Chinese."""
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if not isinstance(body, dict):
        raise ApiError(400, "invalid", "请求格式有误，请刷新页面后重试。",
                       f"{request.path}: the body is not a JSON object")
    return body
