"""Statistics benchmark (not a test): the dashboard's queries at 100,000 tickets.

    uv run python bench/dashboard.py [--tickets 100000]

Bulk-loads N tickets (with their created / assigned / accepted / resolved / rated
events in realistic proportions) and 1.5 × N demands over 180 days into a scratch
SQLite file and a scratch PostgreSQL database, then times what one dashboard load
runs (``bot.web.app._stats``: every count, trend, heat map, phrases, closed-loop
figures, gaps, escalations) for the last 30 days and for the whole period, each
five times. Target (issue #17): ≤ 500 ms. Writes bench/results/dashboard.json.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, insert, text  # noqa: E402

from bot.db import migrate  # noqa: E402
from bot.db.schema import demands, ticket_events, tickets  # noqa: E402
from bot.regions import region_table  # noqa: E402
from bot.stats.log import demand_words  # noqa: E402
from bot.stats.queries import Filters  # noqa: E402
from bot.taxonomy import taxonomy  # noqa: E402
from bot.tickets.model import Status, china_date  # noqa: E402
from bot.tickets.store import closed_loop_facts  # noqa: E402
from bot.web.app import _stats  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 26)


def load(engine, n: int, seed: int = 3) -> None:
    rnd = random.Random(seed)
    subs = list(taxonomy().subtopics.values())
    counties = [r.name for r in region_table().regions.values() if r.level == "county"]
    phrases = ["贷款到期银行不续贷", "招工难", "出口退税慢", "用地指标不够", "货款被拖欠",
               "研发费用加计扣除怎么算", "高企认定", "员工子女入学"]
    start = datetime(2026, 5, 30, tzinfo=timezone.utc)
    t_rows, e_rows, d_rows = [], [], []
    for i in range(n):
        sub = rnd.choice(subs)
        created = start + timedelta(seconds=rnd.randrange(180 * 86400))
        number = f"QZ-{created:%Y%m%d}-{i:06d}"
        fate = rnd.random()
        status = ("assigned" if fate < .15 else "in_progress" if fate < .3 else
                  "resolved" if fate < .5 else "rated")
        region = rnd.choice(counties)
        t_rows.append({"number": number, "status": status, "version": 2,
                       "enterprise_name": f"企业{i}", "credit_code": None, "contact": "联系人",
                       "mobile": "13900000000", "region": region, "domain": sub.domain,
                       "subtopic": sub.id, "text": rnd.choice(phrases), "channel": "wechat",
                       "sender_id": None, "department": f"{region}部门", "level": "county",
                       "created_at": created, "updated_at": created,
                       "first_response_due": (created + timedelta(days=2)).date(),
                       "resolution_due": (created + timedelta(days=10)).date(),
                       "conversation_id": None, "responded_at": None, "resolved_at": None,
                       "escalated": False, "reopened": False, "rating": None})
        seq = [("created", None, "submitted", {}), ("transition", "submitted", "assigned", {})]
        if status != "assigned":
            seq.append(("transition", "assigned", "in_progress", {}))
        if status in ("resolved", "rated"):
            seq.append(("transition", "in_progress", "resolved", {}))
        if status == "rated":
            seq.append(("transition", "resolved", "rated", {"rating": rnd.randint(1, 5)}))
        hours = 0
        for k, (kind, a, b, data) in enumerate(seq, start=1):
            hours += rnd.randint(1, 72) if k > 2 else 0
            at = created + timedelta(hours=hours)
            e_rows.append({"number": number, "seq": k, "at": at, "actor": "bench",
                           "kind": kind, "from_status": a, "to_status": b, "data": data})
            # the closed-loop facts the ticket store keeps with each transition
            row = t_rows[-1]
            for column, value in closed_loop_facts(Status(b), at, data).items():
                row[column] = (row[column] or at) if column.endswith("_at") else value
    words = {p: demand_words(p) for p in phrases}
    for _ in range(int(n * 1.5)):
        sub = rnd.choice(subs)
        at = start + timedelta(seconds=rnd.randrange(180 * 86400))
        said = rnd.choice(phrases)
        d_rows.append({"at": at, "day": china_date(at), "intent": "report_need",
                       "domain": sub.domain, "subtopic": sub.id,
                       "region": rnd.choice(counties),
                       "channel": rnd.choice(["wechat", "rest", "wecom"]),
                       "text": said, "words": words[said]})
    with engine.begin() as conn:
        for table, rows in ((tickets, t_rows), (ticket_events, e_rows), (demands, d_rows)):
            for i in range(0, len(rows), 5000):
                conn.execute(insert(table), rows[i:i + 5000])


def time_it(engine) -> dict:
    out = {}
    for name, f in (("last_30_days", Filters(TODAY - timedelta(days=29), TODAY)),
                    ("all_180_days", Filters(date(2026, 5, 30), TODAY)),
                    ("one_region_180_days", Filters(date(2026, 5, 30), TODAY,
                                                    region="龙游县"))):
        ms = []
        for _ in range(5):
            t0 = time.perf_counter()
            _stats(engine, f, "day")
            ms.append(1000 * (time.perf_counter() - t0))
        out[name] = {"median_ms": round(statistics.median(ms)), "max_ms": round(max(ms))}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--pg", default="postgresql+psycopg2://127.0.0.1:5432/test")
    args = ap.parse_args()
    results = {"tickets": args.tickets}
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/stats.db", future=True)
        migrate.upgrade(engine)
        load(engine, args.tickets)
        results["sqlite"] = time_it(engine)
        print("sqlite", json.dumps(results["sqlite"]), flush=True)
    admin = create_engine(args.pg, future=True, isolation_level="AUTOCOMMIT")
    name = f"govbot_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = create_engine(args.pg.rsplit("/", 1)[0] + f"/{name}", future=True)
        migrate.upgrade(engine)
        load(engine, args.tickets)
        with engine.begin() as conn:
            conn.execute(text("ANALYZE"))
        results["postgresql"] = time_it(engine)
        engine.dispose()
        print("postgresql", json.dumps(results["postgresql"]), flush=True)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "dashboard.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
