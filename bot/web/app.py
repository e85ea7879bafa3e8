"""The web faces of govbot, added to the department API's aiohttp application:

* ``/chat`` — the enterprise web chat (the REST channel, proxied), ``/status/{n}``;
* ``/console`` — the hotline agent's assistant (坐席助手);
* ``/queue`` — a department handler's tickets;
* ``/dashboard`` — demand statistics for administrators (诉求统计), CSV / XLSX exports.

Pages need a login (except the chat and the status page); each role sees only its
pages. Sessions are cookies (HttpOnly, SameSite=Strict); every state-changing
request carries the session's CSRF token. Nothing is loaded from the internet: the
pages use only the files in ``bot/web/static``.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import jinja2
from aiohttp import web

from bot import corrections
from bot.api.app import (
    BACKEND,
    KB,
    ApiError,
    respond,
    ticket_view,
)
from bot.creditcode import is_valid_credit_code
from bot.parsing import label_name
from bot.regions import region_table
from bot.settings import RasaApi
from bot.stats import queries
from bot.stats.export import masked_rows, to_csv, to_xlsx
from bot.stats.labels import headers, labelled, value_names
from bot.stats.log import record_demand
from bot.taxonomy import taxonomy
from bot.tickets.lookup import LOOKUP_BLOCKED, LOOKUP_FAILED, LookupBlocked
from bot.tickets.model import STATUS_NAMES, Enterprise, NewTicket, china_date
from bot.tickets.store import Query
from bot.web.users import Session, UserStore

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
COOKIE = "govbot_session"
USERS = web.AppKey("users", UserStore)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
RASA = web.AppKey("rasa", RasaApi)
SECURE_COOKIE = web.AppKey("secure_cookie", bool)
PROXIES = web.AppKey("trusted_proxies", frozenset)
HOME = {"agent": "/console", "handler": "/queue", "admin": "/dashboard"}
ROLE_NAMES = {"agent": "坐席人员", "handler": "部门办理人员", "admin": "管理员"}
PAGES = {"/console": ("agent", "admin"), "/queue": ("handler", "admin"),
         "/dashboard": ("admin",)}
EXPORTS = {
    "domains": ("demand_counts", ["key", "count"]),
    "subtopics": ("demand_counts", ["key", "count"]),
    "regions": ("demand_counts", ["key", "count"]),
    "channels": ("demand_counts", ["key", "count"]),
    "trend": ("trend", ["period", "domain", "count"]),
    "heatmap": ("heatmap", ["domain", "region", "count"]),
    "phrases": ("recurring_phrases", ["phrase", "count"]),
    "gaps": ("knowledge_gaps", ["question", "count", "last"]),
    "escalated": ("escalated_beyond_authority",
                  ["number", "at", "region", "domain", "subtopic", "to", "level", "by",
                   "reason", "text"]),
    "tickets": ("ticket_list", ["number", "created", "status", "region", "domain",
                                "subtopic", "department", "enterprise", "contact", "mobile",
                                "channel"]),
}
EXPORT_LABELS = {"domains": "按领域", "subtopics": "按子类", "regions": "按地区",
                 "channels": "按渠道", "trend": "趋势", "heatmap": "领域×地区",
                 "phrases": "高频词", "gaps": "政策库未答问题", "escalated": "提级诉求",
                 "tickets": "工单清单（个人信息已脱敏）"}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


# -- sessions -----------------------------------------------------------------------------
def session_of(request: web.Request) -> Session | None:
    return request.get("session")


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Load the session; check the CSRF token on state-changing web requests."""
    if request.path.startswith("/api/"):
        return await handler(request)
    cookie = request.cookies.get(COOKIE)
    request["session"] = await asyncio.to_thread(request.app[USERS].session, cookie) \
        if cookie else None
    if request.method == "POST" and request["session"] is not None \
            and request.path not in ("/login", "/chat/send") \
            and not request.path.startswith("/status/"):
        given = request.headers.get("X-CSRF-Token") or (await request.post()).get("csrf", "")
        if not hmac.compare_digest(str(given), request["session"].csrf):
            raise web.HTTPForbidden(text="CSRF token missing or wrong")
    return await handler(request)


def need(request: web.Request, *roles: str) -> Session:
    """The session of a user with one of ``roles``; pages redirect to the login."""
    s = session_of(request)
    is_page = not request.path.startswith("/web/")
    if s is None:
        if is_page:
            raise web.HTTPFound(f"/login?next={quote(request.path)}")
        raise ApiError(401, "unauthorized", "请先登录。", "no session")
    if s.user.role not in roles:
        if is_page:  # a page in the site's frame that says why and leads back
            denied = page(request, "forbidden.html", home=HOME[s.user.role],
                          roles="、".join(ROLE_NAMES[r] for r in roles))
            raise web.HTTPForbidden(text=denied.text, content_type="text/html", headers={
                k: v for k, v in denied.headers.items() if k.lower() != "content-type"})
        raise ApiError(403, "forbidden", "您的账号没有此操作的权限。",
                       f"role {s.user.role} may not use {request.path}")
    return s


def page(request: web.Request, template: str, **context: Any) -> web.Response:
    html = request.app[TEMPLATES].get_template(template).render(
        session=session_of(request), **context)
    return web.Response(text=html, content_type="text/html", headers={
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                   "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})


def client_address(request: web.Request) -> str:
    """The client's address: the peer, or — when the peer is a trusted proxy (nginx in
    ``govbot cluster``) — the nearest untrusted address in X-Forwarded-For. A header from
    anyone else is ignored: a client cannot choose the address its failures count on."""
    peer = request.remote or "?"
    trusted = request.app[PROXIES]
    if peer not in trusted:
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if hop not in trusted:
            return hop[:64]
    return peer


# -- login --------------------------------------------------------------------------------
async def login_page(request: web.Request) -> web.Response:
    return page(request, "login.html", next=request.query.get("next", ""), error=None)


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    address = client_address(request)
    users = request.app[USERS]
    if await asyncio.to_thread(users.blocked, username, address):
        logger.warning("Login blocked after repeated failures (address %s)", address)
        response = page(request, "login.html", next="", error=(
            "此账号在本机登录失败次数过多，请15分钟后再试；急需登录请联系管理员解除锁定。"))
        response.set_status(429)
        return response
    await asyncio.sleep(await asyncio.to_thread(users.delay, username))
    result = await asyncio.to_thread(users.login, username, password, address)
    if result is None:
        response = page(request, "login.html", next=form.get("next", ""),
                        error="用户名或密码错误。")
        response.set_status(401)
        return response
    cookie, s = result
    request["audit_actor"] = s.user.username
    target = str(form.get("next") or "")
    allowed = [p for p, roles in PAGES.items() if s.user.role in roles]
    if target not in allowed:
        target = HOME[s.user.role]
    response = web.HTTPFound(target)
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="Strict",
                        secure=request.app[SECURE_COOKIE], max_age=8 * 3600, path="/")
    raise response


async def logout(request: web.Request) -> web.Response:
    await asyncio.to_thread(request.app[USERS].logout, request.cookies.get(COOKIE))
    response = web.HTTPFound("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


# -- pages ------------------------------------------------------------------------------
async def home(request: web.Request) -> web.Response:
    s = session_of(request)
    raise web.HTTPFound(HOME[s.user.role] if s else "/chat")


async def console_page(request: web.Request) -> web.Response:
    need(request, "agent", "admin")
    tax = taxonomy()
    return page(request, "console.html", domains=[
        {"id": d.id, "name": d.name, "subtopics": [{"id": s.id, "name": s.name}
                                                    for s in d.subtopics]}
        for d in tax.domains.values()])


async def dashboard_page(request: web.Request) -> web.Response:
    need(request, "admin")
    tax = taxonomy()
    counties = sorted(r.name for r in region_table().regions.values() if r.level == "county")
    return page(request, "dashboard.html", domains=tax.domains.values(), regions=counties,
                exports=EXPORT_LABELS)


async def chat_page(request: web.Request) -> web.Response:
    return page(request, "chat.html")


# -- web chat (the REST channel, proxied so the page needs no cross-origin calls) ---------
async def chat_send(request: web.Request) -> web.Response:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        return web.json_response({"error": "请求格式有误。"}, status=400)
    sender, message = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not 8 <= len(sender) <= 64 or not sender.isalnum() \
            or not isinstance(message, str) or len(message) > 2000:
        return web.json_response({"error": "请求格式有误。"}, status=400)
    url = f"{request.app[RASA].base}/webhooks/rest/webhook"
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session, \
                session.post(url, json={"sender": f"web{sender}", "message": message}) as r:
            replies = await r.json(content_type=None) if r.status == 200 else None
    except (aiohttp.ClientError, asyncio.TimeoutError):
        replies = None
    if not isinstance(replies, list):
        return web.json_response([{"text": "抱歉，系统暂时无法处理您的消息，请稍后重试；"
                                           "紧急事项请拨打 12345 政务服务热线。"}])
    return web.json_response([{"text": r.get("text", ""), "buttons": r.get("buttons", [])}
                              for r in replies])


async def chat_updates(request: web.Request) -> web.Response:
    """Messages sent on their own since ``after`` — ticket notifications and the rating
    question, and staff replies to a handed-over conversation: the web chat polls this,
    since the REST channel cannot push."""
    sender = request.query.get("sender", "")
    try:
        after = float(request.query.get("after", "0"))
    except ValueError:
        after = 0.0
    if not 8 <= len(sender) <= 64 or not sender.isalnum():
        return web.json_response({"error": "请求格式有误。"}, status=400)
    url = request.app[RASA].url(f"/conversations/web{sender}/tracker")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session, \
                session.get(url) as r:
            events = (await r.json()).get("events", []) if r.status == 200 else []
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        events = []
    pushed, external, latest = [], False, after
    for e in events:
        if e.get("event") == "user":
            external = str(e.get("text") or "").startswith("EXTERNAL:")
        elif e.get("event") == "bot" and e.get("timestamp", 0) > after and (
                external or (e.get("metadata") or {}).get("staff")):
            data = e.get("data") or {}
            pushed.append({"text": e.get("text") or "", "buttons": data.get("buttons") or []})
            latest = max(latest, e["timestamp"])
    return web.json_response({"messages": pushed, "after": latest})


async def status_page(request: web.Request) -> web.Response:
    """A ticket for whoever knows its number and the mobile's last four digits; the limit
    per ticket number is the chat's (bot/tickets/lookup.py, in the database)."""
    number = request.match_info["number"]
    context: dict[str, Any] = {"number": number, "ticket": None, "error": None}
    if request.method == "POST":
        tail = str((await request.post()).get("tail", "")).strip()
        try:
            t = await asyncio.to_thread(request.app[BACKEND].lookup.check, number, tail, "web")
        except LookupBlocked:
            logger.warning("Status page look-up refused: too many failures for this number")
            t, context["error"] = None, LOOKUP_BLOCKED
        else:
            context["error"] = None if t else LOOKUP_FAILED
        if t:
            context["ticket"] = t
            context["label"] = taxonomy().label(t.domain, t.subtopic)
    return page(request, "status.html", status_names=STATUS_NAMES, **context)


# -- the agent console ----------------------------------------------------------------------
async def analyze(request: web.Request) -> web.Response:
    """What the caller said: intent, domain, sub-topic, entities, cited policy passages,
    similar past tickets, and where the routing rules would send a ticket."""
    need(request, "agent", "admin")
    body = await json_object(request)
    text = body.get("text")
    text = text.strip() if isinstance(text, str) else ""
    if not text:
        raise ApiError(400, "missing_field", "请输入来电内容。", "missing text", field="text")
    backend = request.app[BACKEND]
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session, \
                session.post(request.app[RASA].url("/model/parse"),
                             json={"text": text[:1000]}) as r:
            parse = await r.json()
    except (aiohttp.ClientError, asyncio.TimeoutError):
        raise ApiError(503, "unavailable", "语义理解服务暂时不可用，请稍后重试。",
                       "Rasa /model/parse unavailable") from None
    regions = [e["value"] for e in parse.get("entities", []) if e.get("entity") == "region"]
    region = str(body.get("region") or "") or (regions[0] if regions else None)
    domain, subtopic = label_name(parse.get("domain")), label_name(parse.get("subtopic"))
    hits: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []  # no answer: what the agent may cite instead
    if KB in request.app:
        hits = await asyncio.to_thread(request.app[KB].search, text, 3, region)
        if not hits:
            candidates = await asyncio.to_thread(request.app[KB].search, text, 3, region,
                                                 None, False)
    similar: list[dict[str, Any]] = []
    if subtopic:
        found, _ = await asyncio.to_thread(backend.service.store.query, Query(
            subtopic=subtopic, status=("resolved", "rated", "closed"), limit=3))
        for t in found:
            events = await asyncio.to_thread(backend.service.store.events, t.number)
            replies = [e.data.get("text", "") for e in events if e.kind == "reply"]
            similar.append({"number": t.number, "region": t.region, "text": t.text[:120],
                            "department": t.department, "reply": replies[-1] if replies else ""})
    route = None
    place = region_table().get(region) if region else None
    if domain and subtopic and place is not None:
        r = backend.service.rules.route(domain, subtopic, place)
        first, resolution = backend.service.due_dates(domain)
        route = {"department": r.department, "level": r.level,
                 "first_response_due": first.isoformat(), "resolution_due": resolution.isoformat(),
                 "needs_level": r.needs_level}
    for h in hits:  # the answer the assistant shows, with its citation
        source = h["doc_no"] or h["issuer"]
        h["reply"] = f"根据《{h['title']}》（{source}）“{h['section']}”：{h['answer']}"
    return respond({"text": text, "intent": parse.get("intent"), "domain": parse.get("domain"),
                    "subtopic": parse.get("subtopic"), "domain_ranking":
                    parse.get("domain_ranking", []), "entities": parse.get("entities", []),
                    "region": region, "kb": hits, "kb_candidates": candidates,
                    "similar": similar, "route": route})


MOBILE = re.compile(r"1\d{10}")  # as the ticket model requires


def ticket_fields(b: dict[str, Any]) -> dict[str, str | None]:
    """The console's ticket form, checked field by field: HTTP 400 naming the first field
    that is wrong, with what to write instead."""
    def text(key: str) -> str:
        value = b.get(key)
        return value.strip() if isinstance(value, str) else ""

    tax = taxonomy()
    fields = {k: text(k) for k in ("company", "region", "credit_code", "contact", "mobile",
                                   "text", "domain", "subtopic")}
    problems = (
        ("subtopic", fields["subtopic"] not in tax.subtopics
         or tax.domain_of(fields["subtopic"]) != fields["domain"], "请选择正确的领域和子类。"),
        ("text", not fields["text"], "请先输入来电内容并分析。"),
        ("company", not 2 <= len(fields["company"]) <= 100, "请填写企业名称（2–100字）。"),
        ("region", region_table().get(fields["region"]) is None,
         "请填写浙江省内的县（市、区），例如“龙游县”。"),
        ("credit_code", fields["credit_code"] and not is_valid_credit_code(
            fields["credit_code"].upper()), "统一社会信用代码应为18位且校验位正确；不清楚可留空。"),
        ("mobile", fields["mobile"] and not MOBILE.fullmatch(fields["mobile"]),
         "手机号应为11位数字，例如 13905701234；没有可留空。"),
        ("contact", len(fields["contact"]) > 50, "联系人姓名过长。"))
    for field, wrong, message in problems:
        if wrong:
            raise ApiError(400, "invalid", message, f"console ticket: bad {field}", field=field)
    return {k: v or None for k, v in fields.items()}


async def open_ticket(request: web.Request) -> web.Response:
    """The agent confirmed (or corrected) the analysis: open the ticket."""
    s = need(request, "agent", "admin")
    b = await json_object(request)
    f = ticket_fields(b)
    domain, subtopic = str(f["domain"]), str(f["subtopic"])
    new = NewTicket(
        enterprise=Enterprise(str(f["company"]), (f["credit_code"] or "").upper() or None,
                              f["contact"], f["mobile"]),
        region=str(f["region"]), domain=domain, subtopic=subtopic,
        text=str(f["text"]), channel="hotline", sender_id=None)
    backend = request.app[BACKEND]
    opened = await asyncio.to_thread(backend.service.open, new, s.user.actor,
                                     b.get("request_key") or None)
    request["audit_number"] = opened.ticket.number
    predicted = (b.get("predicted_domain"), b.get("predicted_subtopic"))
    # a changed category is a labelled example for the NLU, reviewed on the dashboard
    await asyncio.to_thread(corrections.record, backend.engine, text=new.text,
                            intent=str(b.get("intent") or "report_need"), predicted=predicted,
                            chosen=(domain, subtopic), source="agent",
                            username=s.user.username)
    await asyncio.to_thread(record_demand, backend.engine, "report_need", domain, subtopic,
                            opened.ticket.region, "hotline", new.text)
    return respond({"ticket": ticket_view(opened.ticket), "duplicate": opened.duplicate},
                   status=201)


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


# -- statistics -------------------------------------------------------------------------------
def filters_of(request: web.Request) -> queries.Filters:
    q = request.query
    try:
        end = date.fromisoformat(q["end"]) if q.get("end") else \
            china_date(datetime.now(timezone.utc))
        start = date.fromisoformat(q["start"]) if q.get("start") else end - timedelta(days=29)
    except ValueError:
        raise ApiError(400, "invalid", "日期格式应为 2026-11-26。", "bad date") from None
    if start > end or (end - start).days > 3660:
        raise ApiError(400, "invalid", "统计区间有误。", "bad period")
    domain = q.get("domain") or None
    if domain and domain not in taxonomy().domains:
        raise ApiError(400, "invalid", "领域参数有误。", "unknown domain")
    return queries.Filters(start, end, region=q.get("region") or None, domain=domain)


def period_of(request: web.Request) -> str:
    period = request.query.get("period", "day")
    if period not in queries.PERIODS:
        raise ApiError(400, "invalid", "统计周期应为 day、week 或 month。", "bad period")
    return period


def _stats(engine, f: queries.Filters, period: str) -> dict[str, Any]:  # noqa: ANN001
    queries.refresh_planner_statistics(engine)
    return {"filters": {"start": f.start.isoformat(), "end": f.end.isoformat(),
                        "region": f.region, "domain": f.domain, "period": period},
            "domains": queries.demand_counts(engine, f, "domain"),
            "subtopics": queries.demand_counts(engine, f, "subtopic")[:15],
            "regions": queries.demand_counts(engine, f, "region"),
            "channels": queries.demand_counts(engine, f, "channel"),
            "trend": queries.trend(engine, f, period),
            "heatmap": queries.heatmap(engine, f),
            "phrases": queries.recurring_phrases(engine, f),
            "closed_loop": queries.closed_loop(engine, f),
            "gaps": queries.knowledge_gaps(engine, f, 30),
            "escalated": queries.escalated_beyond_authority(engine, f, 50)}


async def stats(request: web.Request) -> web.Response:
    need(request, "admin")
    period = period_of(request)
    data = await asyncio.to_thread(_stats, request.app[BACKEND].engine, filters_of(request),
                                   period)
    names = value_names()  # the exports' names (bot/stats/labels.py)
    data["labels"] = {"domains": names["domain"], "subtopics": names["subtopic"],
                      "channels": names["channel"]}
    return respond(data)


async def export(request: web.Request) -> web.Response:
    s = need(request, "admin")
    table, fmt = request.match_info["table"], request.match_info["format"]
    if table not in EXPORTS or fmt not in ("csv", "xlsx"):
        raise ApiError(404, "not_found", "没有这个报表。", f"no export {table}.{fmt}")
    function, columns = EXPORTS[table]
    f = filters_of(request)
    period = period_of(request)
    engine = request.app[BACKEND].engine

    def rows() -> list[dict[str, Any]]:
        fn = getattr(queries, function)
        if function == "demand_counts":
            return fn(engine, f, table.removesuffix("s"))
        if function == "trend":
            return fn(engine, f, period)
        return fn(engine, f)
    data = masked_rows(labelled(await asyncio.to_thread(rows), table),
                       may_see_personal=s.user.role == "admin"
                       and request.query.get("personal") == "1")
    name = f"govbot-{table}-{f.start}-{f.end}.{fmt}"
    titles = headers(columns, table)
    if fmt == "csv":
        body, kind = to_csv(data, columns, titles), "text/csv"
    else:
        body = await asyncio.to_thread(to_xlsx, data, columns, EXPORT_LABELS[table][:31],
                                       titles)
        kind = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    return web.Response(body=body, content_type=kind, headers={
        "Content-Disposition": f'attachment; filename="{name}"'})


def add_web(app: web.Application, users: UserStore, rasa: RasaApi,
            secure_cookie: bool = False,
            trusted_proxies: frozenset[str] = frozenset()) -> web.Application:
    app[USERS], app[RASA], app[SECURE_COOKIE] = users, rasa, secure_cookie
    app[PROXIES] = trusted_proxies
    app[TEMPLATES] = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                                        autoescape=True)
    app.middlewares.append(sessions)
    r = app.router
    r.add_get("/", home)
    r.add_get("/login", login_page)
    r.add_post("/login", login)
    r.add_post("/logout", logout)
    r.add_get("/chat", chat_page)
    r.add_post("/chat/send", chat_send)
    r.add_get("/chat/updates", chat_updates)
    r.add_route("*", "/status/{number}", status_page)
    r.add_get("/console", console_page)
    r.add_get("/dashboard", dashboard_page)
    r.add_post("/web/analyze", analyze)
    r.add_post("/web/tickets", open_ticket)
    r.add_get("/web/stats", stats)
    r.add_get("/web/export/{table}.{format}", export)
    r.add_static("/static", HERE / "static")
    return app

