"""Demand statistics (诉求统计): SQL aggregations on the demands, tickets and their events,
correct on SQLite and PostgreSQL. Times are grouped by China's calendar day.

Every function takes a ``Filters`` (period, region, domain) and returns plain rows
(lists of dicts) that the dashboard shows and the exports write.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.sql import ColumnElement

from bot.tickets.model import CHINA, OPEN_STATUSES, china_date
from bot.tickets.schema import demands, kb_gaps, ticket_events, tickets

PERIODS = ("day", "week", "month")
DIMENSIONS = ("domain", "subtopic", "region", "channel")
FIRST_RESPONSE = ("in_progress", "resolved", "escalated", "returned")


@dataclass(frozen=True)
class Filters:
    start: date  # China dates, inclusive
    end: date
    region: str | None = None
    domain: str | None = None

    @property
    def since(self) -> datetime:
        return datetime.combine(self.start, time(), CHINA).astimezone(timezone.utc)

    @property
    def until(self) -> datetime:
        return datetime.combine(self.end + timedelta(days=1), time(), CHINA) \
            .astimezone(timezone.utc)

    @classmethod
    def last_days(cls, days: int = 30, **kw: Any) -> Filters:
        today = china_date(datetime.now(timezone.utc))
        return cls(today - timedelta(days=days - 1), today, **kw)


def _where(table, f: Filters, at_column: str = "at") -> list[ColumnElement]:  # noqa: ANN001
    at = table.c[at_column]
    where = [at >= f.since, at < f.until]
    if f.region:
        where.append(table.c.region == f.region)
    if f.domain:
        where.append(table.c.domain == f.domain)
    return where


def _bucket(engine: Engine, column, period: str):  # noqa: ANN001, ANN202 - SQL expressions
    """The China-time day / ISO week / month of a timestamp, as text, in the dialect's SQL."""
    if engine.dialect.name == "postgresql":
        fmt = {"day": "YYYY-MM-DD", "week": 'IYYY-"W"IW', "month": "YYYY-MM"}[period]
        return func.to_char(func.timezone("Asia/Shanghai", column), fmt)
    fmt = {"day": "%Y-%m-%d", "week": "%Y-W%W", "month": "%Y-%m"}[period]
    return func.strftime(fmt, column, "+8 hours")


def demand_counts(engine: Engine, f: Filters, dimension: str) -> list[dict[str, Any]]:
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}")
    col = demands.c[dimension]
    query = (select(col.label("key"), func.count().label("count")).where(*_where(demands, f))
             .group_by(col).order_by(func.count().desc(), col))
    with engine.connect() as conn:
        return [{"key": r.key or "（未知）", "count": r.count} for r in conn.execute(query)]


def trend(engine: Engine, f: Filters, period: str = "day") -> list[dict[str, Any]]:
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    bucket = _bucket(engine, demands.c.at, period).label("bucket")
    query = (select(bucket, demands.c.domain, func.count().label("count"))
             .where(*_where(demands, f)).group_by(bucket, demands.c.domain).order_by(bucket))
    with engine.connect() as conn:
        return [{"period": r.bucket, "domain": r.domain, "count": r.count}
                for r in conn.execute(query)]


def heatmap(engine: Engine, f: Filters) -> list[dict[str, Any]]:
    query = (select(demands.c.domain, demands.c.region, func.count().label("count"))
             .where(*_where(demands, f)).group_by(demands.c.domain, demands.c.region))
    with engine.connect() as conn:
        return [{"domain": r.domain, "region": r.region or "（未知）", "count": r.count}
                for r in conn.execute(query)]


def recurring_phrases(engine: Engine, f: Filters, top: int = 20,
                      sample: int = 5000) -> list[dict[str, Any]]:
    """The words most often used in the period's demands (the latest ``sample`` texts)."""
    from bot.kb import tokens

    query = (select(demands.c.text).where(*_where(demands, f))
             .order_by(demands.c.id.desc()).limit(sample))
    counts: Counter[str] = Counter()
    with engine.connect() as conn:
        for (text,) in conn.execute(query):
            counts.update({w for w in tokens.words(text) if len(w) >= 2})
    return [{"phrase": w, "count": n} for w, n in counts.most_common(top)]


def _ticket_where(f: Filters) -> list[ColumnElement]:
    return _where(tickets, f, "created_at")


def closed_loop(engine: Engine, f: Filters) -> dict[str, Any]:
    """On-time response and resolution, handling time, overdue, escalated, satisfaction,
    reopen rate — for the tickets opened in the period."""
    first = (select(ticket_events.c.number, func.min(ticket_events.c.at).label("at"))
             .where(ticket_events.c.to_status.in_(FIRST_RESPONSE))
             .group_by(ticket_events.c.number).subquery())
    resolved = (select(ticket_events.c.number, func.min(ticket_events.c.at).label("at"))
                .where(ticket_events.c.to_status == "resolved")
                .group_by(ticket_events.c.number).subquery())
    flags = (select(ticket_events.c.number,
                    func.max(case((ticket_events.c.to_status == "escalated", 1), else_=0))
                    .label("escalated"),
                    func.max(case((ticket_events.c.to_status == "reopened", 1), else_=0))
                    .label("reopened"))
             .group_by(ticket_events.c.number).subquery())
    today = china_date(datetime.now(timezone.utc))
    query = (select(tickets.c.number, tickets.c.status, tickets.c.created_at,
                    tickets.c.first_response_due, tickets.c.resolution_due,
                    first.c.at.label("responded"), resolved.c.at.label("resolved"),
                    flags.c.escalated, flags.c.reopened)
             .select_from(tickets.outerjoin(first, first.c.number == tickets.c.number)
                          .outerjoin(resolved, resolved.c.number == tickets.c.number)
                          .outerjoin(flags, flags.c.number == tickets.c.number))
             .where(*_ticket_where(f)))
    n = responded = responded_on_time = resolved_n = resolved_on_time = 0
    overdue = escalated = reopened = 0
    hours: list[float] = []
    with engine.connect() as conn:
        for r in conn.execute(query):
            n += 1
            created = _utc(r.created_at)
            if r.responded is not None:
                responded += 1
                responded_on_time += bool(r.first_response_due and
                                          china_date(_utc(r.responded)) <= r.first_response_due)
            if r.resolved is not None:
                resolved_n += 1
                done = _utc(r.resolved)
                resolved_on_time += bool(r.resolution_due and china_date(done)
                                         <= r.resolution_due)
                hours.append((done - created).total_seconds() / 3600)
            overdue += bool(r.status in OPEN_STATUSES and r.resolution_due
                            and r.resolution_due < today)
            escalated += bool(r.escalated)
            reopened += bool(r.reopened)
        ratings = _ratings(conn, f)

    def share(a: int, b: int) -> float | None:
        return round(a / b, 3) if b else None
    return {"tickets": n, "responded": responded,
            "on_time_response_rate": share(responded_on_time, responded),
            "resolved": resolved_n, "on_time_resolution_rate": share(resolved_on_time, resolved_n),
            "average_handling_hours": round(sum(hours) / len(hours), 1) if hours else None,
            "overdue": overdue, "escalated": escalated, "reopened": reopened,
            "reopen_rate": share(reopened, resolved_n),
            "satisfaction": ratings,
            "average_rating": round(sum(k * v for k, v in ratings.items())
                                    / sum(ratings.values()), 2) if sum(ratings.values())
            else None}


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _ratings(conn, f: Filters) -> dict[int, int]:  # noqa: ANN001 - a connection
    query = (select(ticket_events.c.data)
             .select_from(ticket_events.join(tickets, tickets.c.number == ticket_events.c.number))
             .where(ticket_events.c.to_status == "rated", *_ticket_where(f)))
    counts = {k: 0 for k in range(1, 6)}
    for (data,) in conn.execute(query):
        rating = (data or {}).get("rating")
        if rating in counts:
            counts[rating] += 1
    return counts


def escalated_beyond_authority(engine: Engine, f: Filters,
                               limit: int = 200) -> list[dict[str, Any]]:
    """Tickets escalated because they are beyond local authority (not merely overdue):
    input for policy-blockage reports."""
    query = (select(tickets.c.number, tickets.c.region, tickets.c.domain, tickets.c.subtopic,
                    tickets.c.department, tickets.c.level, ticket_events.c.at,
                    ticket_events.c.actor, ticket_events.c.data, tickets.c.text)
             .select_from(ticket_events.join(tickets, tickets.c.number == ticket_events.c.number))
             .where(ticket_events.c.to_status == "escalated",
                    ticket_events.c.actor != "system:deadline", *_ticket_where(f))
             .order_by(ticket_events.c.at.desc()).limit(limit))
    with engine.connect() as conn:
        return [{"number": r.number, "region": r.region, "domain": r.domain,
                 "subtopic": r.subtopic, "to": r.department, "level": r.level,
                 "at": _utc(r.at).astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
                 "by": r.actor, "reason": (r.data or {}).get("reason", ""),
                 "text": r.text[:200]} for r in conn.execute(query)]


def knowledge_gaps(engine: Engine, f: Filters, limit: int = 100) -> list[dict[str, Any]]:
    where = [kb_gaps.c.at >= f.since, kb_gaps.c.at < f.until]
    if f.region:
        where.append(kb_gaps.c.region == f.region)
    if f.domain:
        where.append(kb_gaps.c.domain == f.domain)
    query = (select(kb_gaps.c.question, func.count().label("count"),
                    func.max(kb_gaps.c.at).label("last"))
             .where(*where).group_by(kb_gaps.c.question)
             .order_by(func.count().desc(), func.max(kb_gaps.c.at).desc()).limit(limit))
    with engine.connect() as conn:
        return [{"question": r.question, "count": r.count,
                 "last": _utc(r.last).astimezone(CHINA).strftime("%Y-%m-%d")}
                for r in conn.execute(query)]


def ticket_list(engine: Engine, f: Filters, limit: int = 1000) -> list[dict[str, Any]]:
    """The period's tickets for export (personal data included: the caller masks it)."""
    query = (select(tickets).where(*_ticket_where(f))
             .order_by(tickets.c.created_at.desc()).limit(limit))
    with engine.connect() as conn:
        return [{"number": r.number, "created": _utc(r.created_at).astimezone(CHINA)
                 .strftime("%Y-%m-%d %H:%M"), "status": r.status, "region": r.region,
                 "domain": r.domain, "subtopic": r.subtopic, "department": r.department,
                 "enterprise": r.enterprise_name, "contact": r.contact, "mobile": r.mobile,
                 "channel": r.channel} for r in conn.execute(query)]
