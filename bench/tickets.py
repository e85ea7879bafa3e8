"""Ticket store benchmark (not a test): creation throughput and queue-query latency.

    uv run python bench/tickets.py [--n 10000] [--pg postgresql+psycopg2://127.0.0.1:5432/test]

Creates N tickets (through TicketService: validation, duplicate check, routing,
deadlines, two events each) on SQLite and on PostgreSQL (a scratch database
created and dropped by the script), then times the department queue query
(``TicketStore.query`` as the department API runs it: one department's open
tickets, earliest deadline first, 50 a page, with the total count). Prints figures
and writes bench/results/tickets.json.
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
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, select, text  # noqa: E402

from bot.db import migrate  # noqa: E402
from bot.db.schema import tickets  # noqa: E402
from bot.regions import region_table  # noqa: E402
from bot.taxonomy import taxonomy  # noqa: E402
from bot.tickets.calendar import WorkCalendar  # noqa: E402
from bot.tickets.model import OPEN_STATUSES, Enterprise, NewTicket  # noqa: E402
from bot.tickets.routing import load_routing  # noqa: E402
from bot.tickets.service import TicketService  # noqa: E402
from bot.tickets.store import Query, SqlTicketStore  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def demands(n: int, seed: int = 7) -> list[NewTicket]:
    rnd = random.Random(seed)
    subs = list(taxonomy().subtopics.values())
    counties = [r.name for r in region_table().regions.values() if r.level == "county"]
    base = NewTicket(Enterprise("企业"), "龙游县", "finance", "bridge_loan", "诉求内容",
                     sender_id="bench")
    out = []
    for i in range(n):
        sub = rnd.choice(subs)
        out.append(replace(base, enterprise=Enterprise(f"测试企业{i}有限公司"),
                           region=rnd.choice(counties), domain=sub.domain, subtopic=sub.id,
                           sender_id=f"bench:{i}", text=f"第{i}条诉求：{sub.name}"))
    return out


def run(engine, n: int) -> dict:
    migrate.upgrade(engine)
    service = TicketService(SqlTicketStore(engine), load_routing(ROOT / "config/routing.yml"),
                            WorkCalendar())
    items = demands(n)
    started = time.perf_counter()
    for i, item in enumerate(items):
        service.open(item, item.sender_id or "bench", request_key=f"bench:{i}")
    seconds = time.perf_counter() - started
    with engine.connect() as conn:
        departments = [r[0] for r in conn.execute(
            select(tickets.c.department).group_by(tickets.c.department)
            .order_by(text("count(*) desc")).limit(5))]
    ms, rows = [], 0
    for _ in range(200):
        for d in departments:  # what GET /api/v1/tickets runs: one page and the total
            t0 = time.perf_counter()
            found, _ = service.store.query(Query(department=d, status=OPEN_STATUSES))
            rows += len(found)
            ms.append(1000 * (time.perf_counter() - t0))
    if rows == 0:
        raise SystemExit("the queue query returned nothing: the benchmark is broken")
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"tickets": n, "create_seconds": round(seconds, 1),
            "tickets_per_second": round(n / seconds, 1),
            "queue_query_p50_ms": round(q[49], 2), "queue_query_p95_ms": round(q[94], 2),
            "queue_rows_per_query": round(rows / len(ms), 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--pg", default="postgresql+psycopg2://127.0.0.1:5432/test",
                    help="an existing database to create the scratch database from")
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        engine = create_engine(f"sqlite:///{tmp}/tickets.db", future=True)
        results["sqlite"] = run(engine, args.n)
        engine.dispose()
    print("sqlite", json.dumps(results["sqlite"]), flush=True)
    admin = create_engine(args.pg, future=True, isolation_level="AUTOCOMMIT")
    name = f"govbot_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        engine = create_engine(args.pg.rsplit("/", 1)[0] + f"/{name}", future=True)
        results["postgresql"] = run(engine, args.n)
        engine.dispose()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    print("postgresql", json.dumps(results["postgresql"]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "tickets.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
