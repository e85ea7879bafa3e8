"""Demand statistics (诉求统计): SQL aggregations on the demands, tickets and their events,
correct on SQLite and PostgreSQL. Times are grouped by China's calendar day.

Every function takes a ``Filters`` (period, region, domain) and returns plain rows
(lists of dicts) that the dashboard shows and the exports write.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from time import monotonic
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import DateTime, case, func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.sql import ColumnElement

from bot.db.schema import demands, kb_gaps, ticket_events, tickets
from bot.db.times import as_utc
from bot.tickets.model import CHINA, OPEN_STATUSES, china_date

PERIODS = ("day", "week", "month")
DIMENSIONS = ("domain", "subtopic", "region", "channel")
RATINGS = range(1, 6)


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


_analysed: WeakKeyDictionary[Engine, float] = WeakKeyDictionary()


def refresh_planner_statistics(engine: Engine, every: float = 600.0) -> None:
    """SQLite picks the statistics indexes (read in order, no sorting) only when it has
    statistics about them; gather them, approximately (a few milliseconds), at most
    every ``every`` seconds. PostgreSQL's autovacuum keeps its own."""
    if engine.dialect.name != "sqlite":
        return
    now = monotonic()
    if now - _analysed.get(engine, -every) < every:
        return
    _analysed[engine] = now
    with engine.begin() as conn:
        conn.execute(text("PRAGMA analysis_limit=1000"))
        conn.execute(text("ANALYZE"))


def _scope(table, f: Filters) -> list[ColumnElement]:  # noqa: ANN001
    """The filters' region and domain, on ``table``."""
    where = []
    if f.region:
        where.append(table.c.region == f.region)
    if f.domain:
        where.append(table.c.domain == f.domain)
    return where


def _where(table, f: Filters, at_column: str = "at") -> list[ColumnElement]:  # noqa: ANN001
    """The period by a timestamp column (China days as UTC bounds), region and domain."""
    at = table.c[at_column]
    return [at >= f.since, at < f.until, *_scope(table, f)]


def _demand_where(f: Filters) -> list[ColumnElement]:
    """The period's demands by their China day (stored with each demand)."""
    return [demands.c.day >= f.start, demands.c.day <= f.end, *_scope(demands, f)]


def bucket(day: date, period: str) -> str:
    """The day / ISO week / month a China day belongs to, as the dashboard labels it."""
    if period == "week":
        year, week, _ = day.isocalendar()
        return f"{year}-W{week:02d}"
    return day.strftime("%Y-%m" if period == "month" else "%Y-%m-%d")


def demand_counts(engine: Engine, f: Filters, dimension: str) -> list[dict[str, Any]]:
    if dimension not in DIMENSIONS:
        raise ValueError(f"dimension must be one of {', '.join(DIMENSIONS)}")
    col = demands.c[dimension]
    query = (select(col.label("key"), func.count().label("count")).where(*_demand_where(f))
             .group_by(col).order_by(func.count().desc(), col))
    with engine.connect() as conn:
        return [{"key": r.key or "（未知）", "count": r.count} for r in conn.execute(query)]


def trend(engine: Engine, f: Filters, period: str = "day") -> list[dict[str, Any]]:
    """Demands per period and domain: counted per China day in the database, days
    folded into ISO weeks or months here (the same labels on every database)."""
    if period not in PERIODS:
        raise ValueError(f"period must be one of {', '.join(PERIODS)}")
    query = (select(demands.c.day, demands.c.domain, func.count().label("count"))
             .where(*_demand_where(f)).group_by(demands.c.day, demands.c.domain))
    counts: Counter[tuple[str, str]] = Counter()
    with engine.connect() as conn:
        for r in conn.execute(query):
            counts[bucket(_day(r.day), period), r.domain] += r.count
    return [{"period": p, "domain": d, "count": n} for (p, d), n in sorted(counts.items())]


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def heatmap(engine: Engine, f: Filters) -> list[dict[str, Any]]:
    query = (select(demands.c.domain, demands.c.region, func.count().label("count"))
             .where(*_demand_where(f)).group_by(demands.c.domain, demands.c.region))
    with engine.connect() as conn:
        return [{"domain": r.domain, "region": r.region or "（未知）", "count": r.count}
                for r in conn.execute(query)]


def recurring_phrases(engine: Engine, f: Filters, top: int = 20,
                      sample: int = 3000) -> list[dict[str, Any]]:
    """The words most often used in the period's demands (the latest ``sample``; their
    words were cut when they were recorded — those recorded before migration 0010 are
    cut now)."""
    from bot.stats.log import demand_words

    words = func.coalesce(demands.c.words, demands.c.text)
    query = (select(demands.c.words.is_(None).label("uncut"), words.label("words"))
             .where(*_demand_where(f))
             .order_by(demands.c.day.desc(), demands.c.id.desc()).limit(sample))
    counts: Counter[str] = Counter()
    with engine.connect() as conn:
        for uncut, said in conn.execute(query):
            counts.update((demand_words(said) if uncut else said).split())
    return [{"phrase": w, "count": n} for w, n in counts.most_common(top)]


def _ticket_where(f: Filters) -> list[ColumnElement]:
    return _where(tickets, f, "created_at")


def _before_day_end(engine: Engine, at, due):  # noqa: ANN001, ANN202 - SQL expressions
    """``at`` (UTC) falls on or before China's calendar day ``due``: before 16:00 UTC of
    that day, which is midnight after it in China."""
    if engine.dialect.name == "postgresql":
        return at < func.timezone("UTC", func.cast(due, DateTime) + text("interval '16 hours'"))
    return at < func.datetime(due, "+16 hours")


def _hours_between(engine: Engine, start, end):  # noqa: ANN001, ANN202 - SQL expressions
    if engine.dialect.name == "postgresql":
        return func.extract("epoch", end - start) / 3600.0
    return (func.julianday(end) - func.julianday(start)) * 24.0


def closed_loop(engine: Engine, f: Filters) -> dict[str, Any]:
    """On-time response and resolution, handling time, overdue, escalated, satisfaction,
    reopen rate — for the tickets opened in the period, from the closed-loop facts each
    ticket keeps (``bot.tickets.store.closed_loop_facts``), aggregated in the database."""
    t = tickets.c
    today = china_date(datetime.now(timezone.utc))

    def count(condition) -> Any:  # noqa: ANN001
        return func.sum(case((condition, 1), else_=0))
    query = select(
        func.count().label("tickets"),
        func.count(t.responded_at).label("responded"),
        count(_before_day_end(engine, t.responded_at, t.first_response_due))
        .label("responded_ok"),
        func.count(t.resolved_at).label("resolved"),
        count(_before_day_end(engine, t.resolved_at, t.resolution_due)).label("resolved_ok"),
        func.avg(_hours_between(engine, t.created_at, t.resolved_at)).label("hours"),
        count(t.status.in_(OPEN_STATUSES) & (t.resolution_due < today)).label("overdue"),
        count(t.escalated).label("escalated"),
        count(t.reopened).label("reopened"),
        *(count(t.rating == k).label(f"rated_{k}") for k in RATINGS)).where(*_ticket_where(f))
    with engine.connect() as conn:
        r = conn.execute(query).one()
    ratings = {k: getattr(r, f"rated_{k}") or 0 for k in RATINGS}

    def share(a: int | None, b: int | None) -> float | None:
        return round((a or 0) / b, 3) if b else None
    rated = sum(ratings.values())
    reopened = int(r.reopened or 0)
    return {"tickets": r.tickets, "responded": r.responded or 0,
            "on_time_response_rate": share(r.responded_ok, r.responded),
            "resolved": r.resolved or 0,
            "on_time_resolution_rate": share(r.resolved_ok, r.resolved),
            "average_handling_hours": round(float(r.hours), 1) if r.hours is not None else None,
            "overdue": r.overdue or 0, "escalated": int(r.escalated or 0),
            "reopened": reopened, "reopen_rate": share(reopened, r.resolved),
            "satisfaction": ratings,
            "average_rating": round(sum(k * v for k, v in ratings.items()) / rated, 2)
            if rated else None}


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
        # the target of that escalation (its event), not where the ticket is now
        return [{"number": r.number, "region": r.region, "domain": r.domain,
                 "subtopic": r.subtopic, "to": (r.data or {}).get("department", r.department),
                 "level": (r.data or {}).get("level", r.level),
                 "at": as_utc(r.at).astimezone(CHINA).strftime("%Y-%m-%d %H:%M"),
                 "by": r.actor, "reason": (r.data or {}).get("reason", ""),
                 "text": r.text[:200]} for r in conn.execute(query)]


def knowledge_gaps(engine: Engine, f: Filters, limit: int = 100) -> list[dict[str, Any]]:
    query = (select(kb_gaps.c.question, func.count().label("count"),
                    func.max(kb_gaps.c.at).label("last"))
             .where(*_where(kb_gaps, f)).group_by(kb_gaps.c.question)
             .order_by(func.count().desc(), func.max(kb_gaps.c.at).desc()).limit(limit))
    with engine.connect() as conn:
        return [{"question": r.question, "count": r.count,
                 "last": as_utc(r.last).astimezone(CHINA).strftime("%Y-%m-%d")}
                for r in conn.execute(query)]


def ticket_list(engine: Engine, f: Filters, limit: int = 1000) -> list[dict[str, Any]]:
    """The period's tickets for export (personal data included: the caller masks it)."""
    query = (select(tickets).where(*_ticket_where(f))
             .order_by(tickets.c.created_at.desc()).limit(limit))
    with engine.connect() as conn:
        return [{"number": r.number, "created": as_utc(r.created_at).astimezone(CHINA)
                 .strftime("%Y-%m-%d %H:%M"), "status": r.status, "region": r.region,
                 "domain": r.domain, "subtopic": r.subtopic, "department": r.department,
                 "enterprise": r.enterprise_name, "contact": r.contact, "mobile": r.mobile,
                 "channel": r.channel} for r in conn.execute(query)]
