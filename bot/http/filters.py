"""The statistics filters of a request's query string (period, region, domain), for the
dashboard's pages and the API; HTTP 400 in Chinese when one is malformed."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

from aiohttp import web

from bot.http.responses import ApiError
from bot.stats import queries
from bot.taxonomy import taxonomy
from bot.tickets.model import china_date


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
