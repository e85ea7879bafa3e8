"""The hotline agent's assistant (坐席助手): what the caller said — intent, domain,
sub-topic, entities, cited policy passages, similar past tickets, the route a ticket
would take — and the ticket form, checked field by field."""

from __future__ import annotations

import asyncio
import re
from typing import Any

import aiohttp
from aiohttp import web

from bot import corrections
from bot.creditcode import is_valid_credit_code
from bot.http.keys import BACKEND, KB
from bot.http.responses import ApiError, json_object, respond, ticket_view
from bot.parsing import label_name
from bot.regions import region_table
from bot.stats.log import record_demand
from bot.taxonomy import taxonomy
from bot.tickets.model import Enterprise, NewTicket
from bot.tickets.store import Query
from bot.web.site import RASA, need, page


async def console_page(request: web.Request) -> web.Response:
    need(request, "agent", "admin")
    tax = taxonomy()
    return page(request, "console.html", domains=[
        {"id": d.id, "name": d.name, "subtopics": [{"id": s.id, "name": s.name}
                                                    for s in d.subtopics]}
        for d in tax.domains.values()])


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


def add_console_routes(app: web.Application) -> None:
    app.router.add_get("/console", console_page)
    app.router.add_post("/web/analyze", analyze)
    app.router.add_post("/web/tickets", open_ticket)
