"""The department API (aiohttp): the ticket queue and the closed loop over HTTP.

Documented in ``docs/api/openapi.yaml`` (served at ``/api/v1/openapi.yaml``).
Bearer tokens carry a role: ``admin`` sees and does everything, ``handler`` works
on its own department's tickets, ``agent`` (hotline) reads tickets, adds notes and
takes over hand-offs. Every call, refused ones included, is written to the audit
table. Errors are JSON: ``{"error": {"code", "message" (Chinese), "detail"}}``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aiohttp import web
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from bot.db.schema import api_audit
from bot.http import commons, reviews
from bot.http.filters import filters_of
from bot.http.handoffs import end_handoff, reply_to_handoff
from bot.http.keys import BACKEND, KB, MEMBERS, NOTIFIER, TOKENS, knowledge_base_of
from bot.http.middleware import errors_and_audit
from bot.http.responses import ApiError, check_department, event_view, respond, ticket_view
from bot.http.tokens import Principal
from bot.kb.index import KnowledgeBase
from bot.kb.matching import SIZE_NAMES, Profile, match_policies, qualifications_in
from bot.supervisor import read_state
from bot.tickets.factory import Backend
from bot.tickets.model import Status, Ticket, china_date
from bot.tickets.notify import RasaNotifier
from bot.tickets.store import Query

logger = logging.getLogger(__name__)

OPENAPI = web.AppKey("openapi", str)
MAX_PAGE = 200


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


async def changed(request: web.Request, ticket: Ticket) -> web.Response:
    await request.app[NOTIFIER].ticket_changed(ticket)
    return respond({"ticket": ticket_view(ticket)})


# -- handlers ----------------------------------------------------------------------------
async def list_reviews(request: web.Request) -> web.Response:
    """Tickets rated 1–2 waiting for the centre's review."""
    require(request, "admin")
    return respond(await reviews.pending(request.app))


async def conclude_review(request: web.Request) -> web.Response:
    """The centre's conclusion of a low rating's review: ``{"conclusion": "…"}``."""
    p = require(request, "admin")
    return respond(await reviews.conclude(request.app, request.match_info["number"],
                                          await body_of(request, "conclusion"), p.actor))


async def list_commons(request: web.Request) -> web.Response:
    """Common problems (共性问题) of the period: ?start=&end=&region=&domain=."""
    require(request, "admin")
    return respond(await commons.groups(request.app, filters_of(request)))


async def report_common_problem(request: web.Request) -> web.Response:
    """A policy-blockage report (堵点上报) one level up from ``{"members": [numbers]}``."""
    p = require(request, "admin")
    return respond(await commons.make_report(request.app, await body_of(request, "members"),
                                             p.actor))


async def health(request: web.Request) -> web.Response:
    return respond({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """Readiness: the database answers (and, for information, whether Rasa does and the
    state of each supervised process: a member in a crash loop is named here)."""
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
    body: dict[str, Any] = {"ready": checks["database"] == "ok", "checks": checks}
    if members := members_of(request.app):
        body["members"] = members
    return respond(body, status=200 if checks["database"] == "ok" else 503)


def members_of(app: web.Application) -> dict[str, dict]:
    """The supervised processes' states (bot/supervisor.py), when a supervisor runs."""
    path = app.get(MEMBERS)
    return read_state(Path(path)) if path else {}


async def metrics(request: web.Request) -> web.Response:
    """Prometheus text format: tickets by status, overdue tickets, hand-offs waiting,
    requests in the outbox, demands by domain, knowledge gaps."""
    from bot.tickets.metrics import render, render_unavailable

    members = members_of(request.app)
    try:
        body = await asyncio.to_thread(render, request.app[BACKEND], members)
    except SQLAlchemyError as err:
        body = render_unavailable(err, members)
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
async def kb_search(request: web.Request) -> web.Response:
    require(request, "admin", "handler", "agent")
    q = request.query.get("q", "").strip()
    if not q:
        raise ApiError(400, "missing_field", "缺少必填项：q。", "missing query parameter q")
    if len(q) > 1000:
        raise ApiError(400, "invalid", "问题过长，请控制在1000字以内。", "q longer than 1000")
    top_k = _int_arg(request, "top_k", 5, 20) or 5
    kb = knowledge_base_of(request)
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
    documents = await asyncio.to_thread(knowledge_base_of(request).documents)
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
               openapi_text: str, kb: KnowledgeBase | None = None) -> web.Application:
    """The API app (the periodic jobs are the composition root's: bot/application.py)."""
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
    app.router.add_get("/api/v1/reviews", list_reviews)
    app.router.add_post(f"{t}/review", conclude_review)
    app.router.add_get("/api/v1/commons", list_commons)
    app.router.add_post("/api/v1/commons/reports", report_common_problem)
    app.router.add_get("/api/v1/kb/search", kb_search)
    app.router.add_post("/api/v1/kb/match", kb_match)
    app.router.add_get("/api/v1/kb/gaps", kb_gaps)

    return app
