"""The dashboard's statistics against the raw rows they summarise.

The statistics read facts kept as tickets move (``closed_loop_facts``) and each demand's
China day and words (``record_demand``); these tests recompute every figure in Python
from the ticket events and demand rows and compare — on SQLite and on PostgreSQL, for
data written through the store and for data that migration 0010 filled in.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

from sqlalchemy import insert, select

from bot.db import migrate
from bot.db.schema import demands, ticket_events, tickets
from bot.kb import tokens
from bot.stats import queries
from bot.stats.log import record_demand
from bot.tickets.model import (
    CHINA,
    FIRST_RESPONSE,
    OPEN_STATUSES,
    TRANSITIONS,
    Enterprise,
    NewTicket,
    Status,
    china_date,
)
from bot.tickets.store import SqlTicketStore

START = datetime(2026, 10, 1, 3, tzinfo=timezone.utc)
NEW = NewTicket(Enterprise("江山市宏达门业有限公司", None, "王经理", "13905701234"),
                "江山", "finance", "bridge_loan", "过桥资金到期")
TEXTS = ["招工难，技术工人招不到", "银行贷款到期不续贷", "出口退税太慢了",
         "用地指标不够，厂房扩建难", "研发费用加计扣除怎么算", "货款被拖欠半年"]


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def walk(store: SqlTicketStore, clock: Clock, rnd: random.Random, n: int) -> None:
    """``n`` tickets, each moved at random along the allowed transitions over days."""
    regions = ["江山", "龙游", "常山"]
    for _ in range(n):
        clock.now = START + timedelta(hours=rnd.randrange(60 * 24))
        domain, subtopic = rnd.choice([("finance", "bridge_loan"), ("talent", "recruitment")])
        t = store.create(replace(NEW, region=rnd.choice(regions), domain=domain,
                                 subtopic=subtopic), "test")
        for _ in range(rnd.randrange(9)):
            allowed = sorted(TRANSITIONS[t.status] - {Status.CLOSED}, key=lambda s: s.value)
            if not allowed:
                break
            to = rnd.choice(allowed)
            clock.now += timedelta(hours=rnd.randrange(1, 90))
            changes, data = {}, None
            if to is Status.ASSIGNED:
                day = china_date(clock.now)
                changes = {"department": "金融办", "level": "county",
                           "first_response_due": day + timedelta(days=rnd.randrange(3)),
                           "resolution_due": day + timedelta(days=rnd.randrange(2, 8))}
            if to is Status.RATED:
                data = {"rating": rnd.randint(1, 5)}
            t = store.transition(t.number, to, "h", t.version, data=data, **changes)


def raw_closed_loop(engine, f: queries.Filters) -> dict:
    """The closed-loop figures from the tickets' events, one ticket at a time."""
    with engine.connect() as conn:
        rows = conn.execute(select(tickets)).all()
        events = conn.execute(select(ticket_events).order_by(ticket_events.c.seq)).all()
    by_number: dict[str, list] = {}
    for e in events:
        if e.kind == "transition":
            by_number.setdefault(e.number, []).append(e)
    today = china_date(datetime.now(timezone.utc))
    out = Counter()
    hours, ratings = [], Counter()

    def utc(at: datetime) -> datetime:
        return at if at.tzinfo else at.replace(tzinfo=timezone.utc)

    def on_time(at: datetime | None, due: date | None) -> bool:
        return at is not None and due is not None and china_date(utc(at)) <= due
    for t in rows:
        created = utc(t.created_at)
        if not f.since <= created < f.until or f.region not in (None, t.region) \
                or f.domain not in (None, t.domain):
            continue
        moves = by_number.get(t.number, [])
        responded = min((e.at for e in moves if e.to_status in FIRST_RESPONSE), default=None)
        resolved = min((e.at for e in moves if e.to_status == "resolved"), default=None)
        rated = [e.data["rating"] for e in moves if e.to_status == "rated"]
        out["tickets"] += 1
        out["responded"] += responded is not None
        out["responded_ok"] += on_time(responded, t.first_response_due)
        out["resolved"] += resolved is not None
        out["resolved_ok"] += on_time(resolved, t.resolution_due)
        out["overdue"] += (t.status in OPEN_STATUSES and t.resolution_due is not None
                           and t.resolution_due < today)
        out["escalated"] += any(e.to_status == "escalated" for e in moves)
        out["reopened"] += any(e.to_status == "reopened" for e in moves)
        if resolved is not None:
            hours.append((utc(resolved) - created).total_seconds() / 3600)
        if rated:
            ratings[rated[-1]] += 1
    return {**out, "hours": sum(hours) / len(hours) if hours else None, "ratings": ratings}


def assert_closed_loop_matches(engine, f: queries.Filters) -> None:
    fast, raw = queries.closed_loop(engine, f), raw_closed_loop(engine, f)
    assert raw["tickets"] > 5
    for key in ("tickets", "responded", "resolved", "overdue", "escalated", "reopened"):
        assert fast[key] == raw[key], key
    for rate, (ok, of) in {"on_time_response_rate": ("responded_ok", "responded"),
                           "on_time_resolution_rate": ("resolved_ok", "resolved")}.items():
        assert fast[rate] == round(raw[ok] / raw[of], 3)
    assert fast["average_handling_hours"] == round(raw["hours"], 1)
    assert fast["satisfaction"] == {k: raw["ratings"][k] for k in range(1, 6)}


PERIODS = [queries.Filters(date(2026, 10, 1), date(2026, 12, 31)),
           queries.Filters(date(2026, 10, 20), date(2026, 11, 10)),
           queries.Filters(date(2026, 10, 1), date(2026, 12, 31), region="江山市"),
           queries.Filters(date(2026, 10, 1), date(2026, 12, 31), domain="talent")]


def test_closed_loop_facts_kept_by_the_store_match_the_events(engine):
    migrate.upgrade(engine)
    clock = Clock()
    walk(SqlTicketStore(engine, clock=clock), clock, random.Random(7), 80)
    whole = raw_closed_loop(engine, PERIODS[0])
    assert min(whole["resolved"], whole["reopened"], whole["escalated"], len(whole["ratings"])) > 0
    for f in PERIODS:
        assert_closed_loop_matches(engine, f)


def record_random_demands(engine, rnd: random.Random, n: int) -> list[dict]:
    rows = []
    for _ in range(n):
        row = {"intent": "report_need", "domain": rnd.choice(["finance", "talent", "data"]),
               "subtopic": rnd.choice(["bridge_loan", "recruitment", None]),
               "region": rnd.choice(["江山市", "龙游县", None]),
               "channel": rnd.choice(["wechat", "rest"]), "text": rnd.choice(TEXTS),
               # near China's midnight too: 15:00–17:00 UTC is 23:00–01:00 in China
               "at": START + timedelta(days=rnd.randrange(60),
                                       minutes=rnd.choice([15 * 60, 16 * 60 - 1, 16 * 60,
                                                           rnd.randrange(1440)]))}
        record_demand(engine, row["intent"], row["domain"], row["subtopic"], row["region"],
                      row["channel"], row["text"], at=row["at"])
        rows.append(row)
    return rows


def assert_demand_figures_match(engine, rows: list[dict], f: queries.Filters) -> None:
    chosen = [r for r in rows if f.start <= r["at"].astimezone(CHINA).date() <= f.end
              and (f.region is None or r["region"] == f.region)
              and (f.domain is None or r["domain"] == f.domain)]
    assert chosen
    for dimension in queries.DIMENSIONS:
        raw = Counter(r[dimension] or "（未知）" for r in chosen)
        assert {c["key"]: c["count"] for c in queries.demand_counts(engine, f, dimension)} == raw
    for period in queries.PERIODS:
        raw = Counter((queries.bucket(r["at"].astimezone(CHINA).date(), period), r["domain"])
                      for r in chosen)
        assert {(c["period"], c["domain"]): c["count"]
                for c in queries.trend(engine, f, period)} == raw
    raw = Counter((r["domain"], r["region"] or "（未知）") for r in chosen)
    assert {(c["domain"], c["region"]): c["count"] for c in queries.heatmap(engine, f)} == raw
    words = Counter(w for r in chosen for w in {w for w in tokens.words(r["text"])
                                                if len(w) >= 2})
    assert {p["phrase"]: p["count"] for p in queries.recurring_phrases(engine, f, top=100)} \
        == dict(words)


def test_demand_figures_match_the_demands(engine):
    migrate.upgrade(engine)
    rows = record_random_demands(engine, random.Random(5), 300)
    queries.refresh_planner_statistics(engine)
    for f in PERIODS:
        assert_demand_figures_match(engine, rows, f)


def test_week_labels_are_iso_weeks():
    assert queries.bucket(date(2026, 12, 31), "week") == "2026-W53"
    assert queries.bucket(date(2027, 1, 1), "week") == "2026-W53"
    assert queries.bucket(date(2026, 11, 26), "month") == "2026-11"


def test_migration_fills_in_the_facts_of_existing_rows(engine):
    """Rows written before migration 0010 (by the store of that time: events only, no
    day or words) get their facts when the database is upgraded."""
    migrate.upgrade(engine, "0009")
    rnd = random.Random(11)
    with engine.begin() as conn:
        for i in range(40):
            number = f"QZ-20261001-{i:04d}"
            created = START + timedelta(hours=rnd.randrange(40 * 24))
            conn.execute(insert(tickets).values(
                number=number, status="assigned", version=1, enterprise_name="某公司",
                region="江山市", domain="finance", subtopic="bridge_loan", text="x",
                channel="rest", level="county", created_at=created, updated_at=created,
                first_response_due=china_date(created) + timedelta(days=1),
                resolution_due=china_date(created) + timedelta(days=5)))
            at, status = created, "assigned"
            path = rnd.choice([["in_progress", "resolved", "rated", "reopened", "in_progress",
                                "resolved", "rated"], ["escalated", "in_progress"],
                               ["in_progress", "resolved"], []])
            for seq, to in enumerate(["assigned", *path], start=1):
                at += timedelta(hours=rnd.randrange(1, 80))
                data = {"rating": rnd.randint(1, 5)} if to == "rated" else {}
                conn.execute(insert(ticket_events).values(
                    number=number, seq=seq, at=at, actor="h", kind="transition",
                    from_status=status, to_status=to, data=data))
                status = to
            conn.execute(tickets.update().where(tickets.c.number == number)
                         .values(status=status))
        old_demands = [{"intent": "report_need", "domain": "finance", "subtopic": None,
                        "region": "江山市", "channel": "rest", "text": rnd.choice(TEXTS),
                        "at": START + timedelta(hours=rnd.randrange(40 * 24))}
                       for _ in range(50)]
        conn.execute(insert(demands), old_demands)
    migrate.upgrade(engine)
    assert_closed_loop_matches(engine, PERIODS[0])
    assert_demand_figures_match(engine, old_demands, PERIODS[0])
