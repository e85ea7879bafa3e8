"""The department API (aiohttp): the ticket queue and the closed loop over HTTP.

Documented in ``docs/api/openapi.yaml`` (served at ``/api/v1/openapi.yaml``).
Bearer tokens carry a role: ``admin`` sees and does everything, ``handler`` works
on its own department's tickets, ``agent`` (hotline) reads tickets, adds notes and
takes over hand-offs. Every call, refused ones included, is written to the audit
table. Errors are JSON: ``{"error": {"code", "message" (Chinese), "detail"}}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict
from datetime import date, datetime, timezone
from typing import Any

from aiohttp import web
from sqlalchemy import insert, select
from sqlalchemy.exc import SQLAlchemyError

from bot.api.jobs import run_jobs_forever
from bot.api.notify import RasaNotifier
from bot.api.tokens import Principal, digest
from bot.db.schema import api_audit
from bot.kb.index import KnowledgeBase
from bot.kb.matching import SIZE_NAMES, Profile, match_policies, qualifications_in
from bot.stats.labels import STATUS_SHORT
from bot.tickets.factory import Backend
from bot.tickets.handoffs import Handoff
from bot.tickets.model import (
    ConcurrentUpdate,
    Event,
    IllegalTransition,
    InvalidTicket,
    Status,
    Ticket,
    TicketError,
    TicketNotFound,
    china_date,
)
from bot.tickets.store import Query

logger = logging.getLogger(__name__)

BACKEND = web.AppKey("backend", Backend)
TOKENS = web.AppKey("tokens", dict)
NOTIFIER = web.AppKey("notifier", RasaNotifier)
OPENAPI = web.AppKey("openapi", str)
KB = web.AppKey("kb", KnowledgeBase)
PUBLIC = {"/api/v1/health", "/api/v1/ready", "/api/v1/metrics", "/api/v1/openapi.yaml"}
#: the router's answers, in Chinese and JSON like every other API error
ROUTING_ERRORS = {404: "没有这个接口，请对照接口文档（/api/v1/openapi.yaml）。",
                  405: "该接口不支持此请求方法，请对照接口文档。",
                  413: "请求内容过大。"}
#: page requests that change nothing (or are the enterprise's own, recorded elsewhere)
UNAUDITED_POSTS = {"/chat/send", "/web/analyze"}


def audited(request: web.Request) -> bool:
    """API calls (except the public probes) and every state-changing page request."""
    if request.path.startswith("/api/"):
        return request.path not in PUBLIC
    return request.method == "POST" and request.path not in UNAUDITED_POSTS \
        and not request.path.startswith("/status/")
MAX_PAGE = 200
MAX_REPLY = 1000  # characters of a staff reply (bot/channels/staff.py takes as many)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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


# -- middlewares -------------------------------------------------------------------------
def _principal(request: web.Request) -> Principal | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return request.app[TOKENS].get(digest(header.removeprefix("Bearer ").strip()))


@web.middleware
async def errors_and_audit(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, translate ticket errors to HTTP answers, and audit every call."""
    principal = None
    status = 500
    api = request.path.startswith("/api/")  # the web pages use sessions (bot.web)
    try:
        if api and request.path not in PUBLIC:
            principal = _principal(request)
            if principal is None:
                raise ApiError(401, "unauthorized", "请提供有效的访问令牌。",
                               "missing or unknown bearer token")
            request["principal"] = principal
        response = await handler(request)
        status = response.status
        return response
    except ApiError as err:
        status = err.status_code
        raise
    except web.HTTPException as err:  # redirects after a login, page 403s, CSRF refusals
        status = err.status
        if api and status in ROUTING_ERRORS:  # the router's own plain-text answers
            raise ApiError(status, "not_found" if status == 404 else "invalid",
                           ROUTING_ERRORS[status], f"{request.method} {request.path}: "
                           f"{err.reason}") from None
        raise
    except TicketNotFound as err:
        status = 404
        raise ApiError(404, "not_found", "没有找到该工单。", str(err)) from None
    except IllegalTransition as err:
        status = 409
        now = STATUS_SHORT.get(err.current.value, err.current.value)
        raise ApiError(409, "illegal_transition",
                       f"工单当前状态为“{now}”，不能执行此操作。", str(err)) from None
    except ConcurrentUpdate as err:
        status = 409
        raise ApiError(409, "conflict", "工单已被他人更新，请刷新后重试。", str(err)) from None
    except InvalidTicket as err:
        status = 400
        raise ApiError(400, "invalid", "请求内容不完整或有误，请检查后重试。", str(err)) from None
    except TicketError as err:
        status = 400
        raise ApiError(400, "invalid", "请求无法执行。", str(err)) from None
    except SQLAlchemyError:
        status = 503
        logger.exception("Ticket database error on %s %s", request.method, request.path)
        raise ApiError(503, "unavailable", "工单系统暂时不可用，请稍后重试。",
                       "ticket database unavailable") from None
    finally:
        if audited(request):
            await _audit(request, principal, status)


async def _audit(request: web.Request, principal: Principal | None, status: int) -> None:
    """Who (token holder or signed-in user), what (method, path), which ticket, result."""
    session = request.get("session")
    if principal is not None:
        actor, role = principal.name, principal.role
    elif session is not None:
        actor, role = session.user.username, session.user.role
    else:  # a login names its user once it succeeded (bot.web.app.login)
        actor, role = request.get("audit_actor") or "anonymous", "-"
    row = {"at": datetime.now(timezone.utc), "actor": actor[:100], "role": role,
           "method": request.method, "path": request.path[:300], "status": status,
           "number": request.match_info.get("number") or request.get("audit_number")}

    def write() -> None:
        with request.app[BACKEND].engine.begin() as conn:
            conn.execute(insert(api_audit).values(**row))
    try:
        await asyncio.to_thread(write)
    except SQLAlchemyError:
        logger.error("Audit record not written: %s %s by %s -> %d", row["method"],
                     row["path"], row["actor"], status)


# -- helpers -----------------------------------------------------------------------------
def principal_of(request: web.Request) -> Principal:
    return request["principal"]


def require(request: web.Request, *roles: str) -> Principal:
    p = principal_of(request)
    if p.role not in roles:
        raise ApiError(403, "forbidden", "您的账号没有此操作的权限。",
                       f"role {p.role} may not {request.method} {request.path}")
    return p


async def body_of(request: web.Request, *required: str) -> dict[str, Any]:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiError(400, "bad_json", "请求体应为JSON。", "body is not valid JSON") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad_json", "请求体应为JSON对象。", "body must be a JSON object")
    missing = [k for k in required if body.get(k) in (None, "")]
    if missing:
        raise ApiError(400, "missing_field", f"缺少必填项：{'、'.join(missing)}。",
                       f"missing fields: {', '.join(missing)}")
    if "version" in required and not isinstance(body["version"], int):
        raise ApiError(400, "invalid", "version 应为整数。", "version must be an integer")
    return body


async def ticket_for(request: web.Request, *roles: str) -> Ticket:
    """The ticket of the URL, if the caller's role and department may act on it."""
    p = require(request, *roles)
    ticket = await asyncio.to_thread(request.app[BACKEND].service.store.get,
                                     request.match_info["number"])
    check_department(p.role, p.department, ticket)
    return ticket


def check_department(role: str, department: str | None, ticket: Ticket) -> None:
    """A department handler works only on its own department's tickets (API and pages)."""
    if role == "handler" and ticket.department != department:
        raise ApiError(403, "forbidden", "该工单不属于您所在的部门。",
                       f"ticket {ticket.number} belongs to {ticket.department}")


async def changed(request: web.Request, ticket: Ticket) -> web.Response:
    await request.app[NOTIFIER].ticket_changed(ticket)
    return respond({"ticket": ticket_view(ticket)})


# -- handlers ----------------------------------------------------------------------------
async def health(request: web.Request) -> web.Response:
    return respond({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """Readiness: the database answers (and, for information, whether Rasa does)."""
    def database() -> str:
        with request.app[BACKEND].engine.connect() as conn:
            conn.execute(select(1))
        return "ok"
    checks: dict[str, str] = {}
    try:
        checks["database"] = await asyncio.to_thread(database)
    except SQLAlchemyError as err:
        checks["database"] = f"unavailable ({type(err).__name__})"
    checks["rasa"] = "ok" if await request.app[NOTIFIER].rasa_up() else "unavailable"
    return respond({"ready": checks["database"] == "ok", "checks": checks},
                   status=200 if checks["database"] == "ok" else 503)


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format: tickets by status, overdue tickets, hand-offs waiting,
    requests in the outbox, demands by domain, knowledge gaps."""
    from bot.tickets.metrics import render, render_unavailable

    try:
        body = await asyncio.to_thread(render, request.app[BACKEND])
    except SQLAlchemyError as err:
        body = render_unavailable(err)
    return web.Response(body=body, content_type="text/plain", charset="utf-8",
                        headers={"X-Content-Type-Options": "nosniff"})


async def openapi(request: web.Request) -> web.Response:
    return web.Response(text=request.app[OPENAPI], content_type="application/yaml")


def _int_arg(request: web.Request, name: str, default: int, top: int) -> int:
    raw = request.query.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= top:
        raise ApiError(400, "invalid", f"参数 {name} 应为0到{top}的整数。",
                       f"{name} must be an integer 0..{top}")
    return int(raw)


async def list_tickets(request: web.Request) -> web.Response:
    p = require(request, "admin", "handler", "agent")
    q = request.query
    statuses = tuple(s for s in q.get("status", "").split(",") if s)
    unknown = [s for s in statuses if s not in Status._value2member_map_]
    if unknown:
        raise ApiError(400, "invalid", "状态参数有误。", f"unknown status: {', '.join(unknown)}")
    query = Query(
        department=p.department if p.role == "handler" else q.get("department") or None,
        status=statuses or None, region=q.get("region") or None,
        domain=q.get("domain") or None,
        overdue_on=china_date(datetime.now(timezone.utc)) if q.get("overdue") == "true"
        else None,
        limit=_int_arg(request, "limit", 50, MAX_PAGE),
        offset=_int_arg(request, "offset", 0, 10**9))
    found, total = await asyncio.to_thread(request.app[BACKEND].service.store.query, query)
    return respond({"total": total, "limit": query.limit, "offset": query.offset,
                    "tickets": [ticket_view(t) for t in found]})


async def get_ticket(request: web.Request) -> web.Response:
    ticket = await ticket_for(request, "admin", "handler", "agent")
    events = await asyncio.to_thread(request.app[BACKEND].service.store.events, ticket.number)
    return respond({"ticket": ticket_view(ticket), "events": [event_view(e) for e in events]})


async def accept(request: web.Request) -> web.Response:
    ticket = await ticket_for(request, "admin", "handler")
    body = await body_of(request, "version")
    service = request.app[BACKEND].service
    return await changed(request, await asyncio.to_thread(
        service.accept, ticket.number, principal_of(request).actor, body["version"]))


async def resolve(request: web.Request) -> web.Response:
    ticket = await ticket_for(request, "admin", "handler")
    body = await body_of(request, "version", "reply")
    service = request.app[BACKEND].service
    return await changed(request, await asyncio.to_thread(
        service.resolve, ticket.number, principal_of(request).actor, body["version"],
        str(body["reply"])))


async def return_ticket(request: web.Request) -> web.Response:
    ticket = await ticket_for(request, "admin", "handler")
    body = await body_of(request, "version", "reason")
    service = request.app[BACKEND].service
    updated = await asyncio.to_thread(service.return_for_rerouting, ticket.number,
                                      principal_of(request).actor, body["version"],
                                      str(body["reason"]))
    return respond({"ticket": ticket_view(updated)})  # internal: the enterprise is not told


async def escalate(request: web.Request) -> web.Response:
    ticket = await ticket_for(request, "admin", "handler")
    body = await body_of(request, "version", "reason")
    if body.get("level") not in (None, "county", "city", "province"):
        raise ApiError(400, "invalid", "level 应为 county、city 或 province。",
                       f"unknown level {body.get('level')!r}")
    service = request.app[BACKEND].service
    return await changed(request, await asyncio.to_thread(
        service.escalate, ticket.number, principal_of(request).actor, body["version"],
        str(body["reason"]), body.get("level")))


async def assign(request: web.Request) -> web.Response:
    ticket = await ticket_for(request, "admin")
    body = await body_of(request, "version", "reason")
    service = request.app[BACKEND].service
    return await changed(request, await asyncio.to_thread(
        lambda: service.reassign(
            ticket.number, principal_of(request).actor, body["version"],
            reason=str(body["reason"]), department=body.get("department"),
            level=body.get("level"), domain=body.get("domain"),
            subtopic=body.get("subtopic"))))


async def close(request: web.Request) -> web.Response:
    ticket = await ticket_for(request, "admin")
    body = await body_of(request, "version", "reason")
    service = request.app[BACKEND].service
    return await changed(request, await asyncio.to_thread(
        service.close, ticket.number, principal_of(request).actor, body["version"],
        str(body["reason"])))


async def add_note(request: web.Request) -> web.Response:
    ticket = await ticket_for(request, "admin", "handler", "agent")
    body = await body_of(request, "text")
    event = await asyncio.to_thread(request.app[BACKEND].service.store.add_note,
                                    ticket.number, principal_of(request).actor,
                                    str(body["text"])[:2000])
    return respond({"event": event_view(event)}, status=201)


async def list_handoffs(request: web.Request) -> web.Response:
    require(request, "admin", "agent")
    waiting = await asyncio.to_thread(request.app[BACKEND].handoffs.waiting)
    return respond({"handoffs": [asdict(h) for h in waiting]})


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


async def close_handoff(request: web.Request) -> web.Response:
    p = require(request, "admin", "agent")
    return respond(await end_handoff(request.app, request.match_info["handoff_id"], p.actor))


async def handoff_reply(request: web.Request) -> web.Response:
    p = require(request, "admin", "agent")
    body = await body_of(request, "text")
    return respond(await reply_to_handoff(request.app, request.match_info["handoff_id"],
                                          body["text"], p.actor))


async def audit_log(request: web.Request) -> web.Response:
    require(request, "admin")
    limit = _int_arg(request, "limit", 100, 1000)

    def read() -> list[dict[str, Any]]:
        with request.app[BACKEND].engine.connect() as conn:
            rows = conn.execute(select(api_audit).order_by(api_audit.c.id.desc())
                                .limit(limit)).all()
        return [dict(r._mapping) for r in rows]
    return respond({"audit": await asyncio.to_thread(read)})


# -- the knowledge base (for the hotline console) ------------------------------------------
def _kb(request: web.Request) -> KnowledgeBase:
    if KB not in request.app:
        raise ApiError(503, "unavailable", "政策库尚未建立。", "no knowledge base configured")
    return request.app[KB]


async def kb_search(request: web.Request) -> web.Response:
    require(request, "admin", "handler", "agent")
    q = request.query.get("q", "").strip()
    if not q:
        raise ApiError(400, "missing_field", "缺少必填项：q。", "missing query parameter q")
    if len(q) > 1000:
        raise ApiError(400, "invalid", "问题过长，请控制在1000字以内。", "q longer than 1000")
    top_k = _int_arg(request, "top_k", 5, 20) or 5
    kb = _kb(request)
    hits = await asyncio.to_thread(kb.search, q, top_k, request.query.get("region") or None)
    return respond({"query": q, "hits": hits})


async def kb_match(request: web.Request) -> web.Response:
    require(request, "admin", "handler", "agent")
    body = await body_of(request)
    size = body.get("size")
    if size is not None and (not isinstance(size, str) or size not in SIZE_NAMES):
        raise ApiError(400, "invalid", "size 应为 micro、small、medium 或 large。",
                       "size must be micro, small, medium or large")
    quals = body.get("qualifications") or []
    if not isinstance(quals, list) or not all(isinstance(q, str) for q in quals):
        raise ApiError(400, "invalid", "qualifications 应为资质名称的列表。",
                       "qualifications must be a list of strings")
    for key in ("region", "industry"):
        if body.get(key) is not None and not isinstance(body[key], str):
            raise ApiError(400, "invalid", f"{key} 应为文字。", f"{key} must be a string")
    text = " ".join(quals)
    try:
        profile = Profile(region=body.get("region"), industry=body.get("industry"), size=size,
                          qualifications=qualifications_in(text),
                          rd_expense=float(body["rd_expense"]) if body.get("rd_expense")
                          is not None else None,
                          employees=int(body["employees"]) if body.get("employees")
                          is not None else None)
        if profile.rd_expense is not None and not math.isfinite(profile.rd_expense):
            raise ValueError("rd_expense is not a finite number")
    except (TypeError, ValueError, OverflowError):
        raise ApiError(400, "invalid", "rd_expense 和 employees 应为数字。",
                       "rd_expense and employees must be numbers") from None
    documents = await asyncio.to_thread(_kb(request).documents)
    return respond({"profile": {**asdict(profile),
                                "qualifications": sorted(profile.qualifications)},
                    "policies": [m.view() for m in match_policies(documents, profile)]})


async def kb_gaps(request: web.Request) -> web.Response:
    require(request, "admin")
    limit = _int_arg(request, "limit", 100, 1000)
    log = request.app[BACKEND].kb_log
    gaps, helpful = await asyncio.gather(asyncio.to_thread(log.gaps, limit),
                                         asyncio.to_thread(log.helpfulness))
    return respond({"gaps": gaps, "feedback": helpful})


# -- the app -----------------------------------------------------------------------------
def create_app(backend: Backend, tokens: dict[str, Principal], notifier: RasaNotifier,
               openapi_text: str, job_interval: float | None = None,
               kb: KnowledgeBase | None = None) -> web.Application:
    """The API app; with ``job_interval`` it also runs the periodic ticket jobs
    (overdue escalation, outbox draining) every that many seconds."""
    app = web.Application(middlewares=[errors_and_audit], client_max_size=64 * 1024)
    app[BACKEND], app[TOKENS], app[NOTIFIER], app[OPENAPI] = (backend, tokens, notifier,
                                                              openapi_text)
    if kb is not None:
        app[KB] = kb
    t = "/api/v1/tickets/{number}"
    app.router.add_get("/api/v1/health", health)
    app.router.add_get("/api/v1/ready", ready)
    app.router.add_get("/api/v1/metrics", metrics)
    app.router.add_get("/api/v1/openapi.yaml", openapi)
    app.router.add_get("/api/v1/tickets", list_tickets)
    app.router.add_get(t, get_ticket)
    app.router.add_post(f"{t}/accept", accept)
    app.router.add_post(f"{t}/resolve", resolve)
    app.router.add_post(f"{t}/return", return_ticket)
    app.router.add_post(f"{t}/escalate", escalate)
    app.router.add_post(f"{t}/assign", assign)
    app.router.add_post(f"{t}/close", close)
    app.router.add_post(f"{t}/notes", add_note)
    app.router.add_get("/api/v1/handoffs", list_handoffs)
    app.router.add_post("/api/v1/handoffs/{handoff_id}/close", close_handoff)
    app.router.add_post("/api/v1/handoffs/{handoff_id}/reply", handoff_reply)
    app.router.add_get("/api/v1/audit", audit_log)
    app.router.add_get("/api/v1/kb/search", kb_search)
    app.router.add_post("/api/v1/kb/match", kb_match)
    app.router.add_get("/api/v1/kb/gaps", kb_gaps)

    if job_interval:
        async def jobs(app: web.Application) -> AsyncIterator[None]:
            task = asyncio.create_task(run_jobs_forever(backend, notifier, job_interval))
            yield
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        app.cleanup_ctx.append(jobs)
    return app
