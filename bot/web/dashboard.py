"""Demand statistics for administrators (诉求统计): the dashboard page, its JSON and the
CSV / XLSX exports (personal data masked unless an administrator asks otherwise)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from bot.http.filters import filters_of, period_of
from bot.http.keys import BACKEND
from bot.http.responses import ApiError, respond
from bot.proactive.blockage import common_problem_rows
from bot.regions import region_table
from bot.stats import queries
from bot.stats.export import masked_rows, to_csv, to_xlsx
from bot.stats.labels import headers, labelled, value_names
from bot.stats.proactive import FIGURES, figure_rows, proactive_figures
from bot.taxonomy import taxonomy
from bot.web.site import need, page

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
    "proactive": ("proactive", ["figure", "value"]),
    "commons": ("commons", ["label", "regions", "count", "enterprises", "first", "last",
                            "report", "report_status", "sample"]),
}
EXPORT_LABELS = {"domains": "按领域", "subtopics": "按子类", "regions": "按地区",
                 "channels": "按渠道", "trend": "趋势", "heatmap": "领域×地区",
                 "phrases": "高频词", "gaps": "政策库未答问题", "escalated": "提级诉求",
                 "tickets": "工单清单（个人信息已脱敏）", "proactive": "主动服务",
                 "commons": "共性问题"}


async def dashboard_page(request: web.Request) -> web.Response:
    need(request, "admin")
    tax = taxonomy()
    counties = sorted(r.name for r in region_table().regions.values() if r.level == "county")
    return page(request, "dashboard.html", domains=tax.domains.values(), regions=counties,
                exports=EXPORT_LABELS)


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
            "escalated": queries.escalated_beyond_authority(engine, f, 50),
            "proactive": proactive_figures(engine, f)}


async def stats(request: web.Request) -> web.Response:
    need(request, "admin")
    period = period_of(request)
    data = await asyncio.to_thread(_stats, request.app[BACKEND].engine, filters_of(request),
                                   period)
    names = value_names()  # the exports' names (bot/stats/labels.py)
    data["labels"] = {"domains": names["domain"], "subtopics": names["subtopic"],
                      "channels": names["channel"], "proactive": FIGURES}
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
        if function == "proactive":
            return figure_rows(proactive_figures(engine, f))
        if function == "commons":
            return common_problem_rows(engine, request.app[BACKEND].service, f)
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


def add_dashboard_routes(app: web.Application) -> None:
    app.router.add_get("/dashboard", dashboard_page)
    app.router.add_get("/web/stats", stats)
    app.router.add_get("/web/export/{table}.{format}", export)
