"""Policy delivery benchmark (not a test): matching and delivering one new policy to
100,000 enterprise profiles.

    uv run python bench/proactive.py [--profiles 100000] [--pg postgresql+psycopg2://…]

Fills a scratch database (SQLite, and PostgreSQL when ``--pg`` names a server: a scratch
database is created and dropped) with N subscribed profiles across Zhejiang's counties
(sizes, qualifications and chat channels drawn at random), records the knowledge base as
known, then adds one province-wide benefit policy and times:

* ``plan`` — reading every profile, matching it, writing the notices (one transaction);
* ``send`` — every notice through ``bot.proactive.delivery.send`` to a channel stand-in on
  127.0.0.1 that answers like the Rasa server's ``/webhooks/staff/notice`` (HTTP, JSON),
  in batches as the periodic job sends them, until none is pending.

Matching and sending run in the web process's job, never in the Rasa server, so they do
not hold up conversations. Prints the figures and writes bench/results/proactive.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from aiohttp import web  # noqa: E402
from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bot.creditcode import credit_code_check_char  # noqa: E402
from bot.db import migrate  # noqa: E402
from bot.db.schema import enterprise_profiles, policy_deliveries  # noqa: E402
from bot.kb.matching import QUALIFICATIONS  # noqa: E402
from bot.proactive import delivery  # noqa: E402
from bot.proactive.profiles import ProfileStore  # noqa: E402
from bot.regions import region_table  # noqa: E402
from bot.shell import free_port  # noqa: E402
from bot.sqlite import file_engine  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
POLICY = {"id": "zj-bench-tech-grant", "title": "浙江省科技型中小企业研发费用补助办法（基准）",
          "issuer": "浙江省科学技术厅", "doc_no": "浙科发〔2026〕1号", "date": "2026-11-30",
          "region": "浙江省", "url": "https://example.gov.cn/bench",
          "benefit": "按上年度研发费用的5%给予补助，最高30万元", "apply_by": "2099-12-31",
          "eligibility": {"qualifications": ["科技型中小企业"], "size": ["micro", "small"]}}


def fill(engine, n: int, seed: int = 11) -> None:
    rnd = random.Random(seed)
    counties = [r.name for r in region_table().regions.values() if r.level == "county"]
    at = datetime.now(timezone.utc)
    rows = []
    for i in range(n):
        first = f"91330{i:012d}"
        rows.append({
            "credit_code": first + credit_code_check_char(first), "name": f"基准企业{i}有限公司",
            "region": rnd.choice(counties), "size": rnd.choice(["micro", "small", "medium",
                                                                "large", None]),
            "qualifications": rnd.sample(QUALIFICATIONS, rnd.choice([0, 0, 1, 1, 2])),
            "channel": "rest", "sender_id": f"rest:b{i}", "conversation_id": f"b{i}",
            "subscribed": True, "source": "ticket", "created_at": at, "updated_at": at})
    with engine.begin() as conn:
        for i in range(0, n, 5000):
            conn.execute(insert(enterprise_profiles), rows[i:i + 5000])


class StandIn:
    """Answers ``POST /webhooks/staff/notice`` as the Rasa server does."""

    def __init__(self) -> None:
        self.port, self.received = free_port(), 0

    async def start(self) -> web.AppRunner:
        async def notice(request: web.Request) -> web.Response:
            await request.json()
            self.received += 1
            return web.json_response({"channel": "rest", "delivery": "polling",
                                      "delivered": True})
        app = web.Application()
        app.router.add_post("/webhooks/staff/notice", notice)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        return runner


class HttpDeliverer:
    """The notifier's HTTP call, with one session (as RasaNotifier.notice posts)."""

    def __init__(self, url: str, session: aiohttp.ClientSession) -> None:
        self.url, self.session = url, session

    async def notice(self, conversation_id: str, text_: str, doc: dict) -> bool:
        async with self.session.post(self.url, json={"conversation_id": conversation_id,
                                                     "text": text_, "card": {}}) as r:
            return (await r.json())["delivered"]


async def deliver_all(engine, documents: dict) -> tuple[float, int, int]:
    stand_in = StandIn()
    runner = await stand_in.start()
    started = time.perf_counter()
    runs = 0
    try:
        async with aiohttp.ClientSession() as session:
            deliverer = HttpDeliverer(f"http://127.0.0.1:{stand_in.port}/webhooks/staff/notice",
                                      session)
            while True:
                runs += 1
                sent = await delivery.send(engine, deliverer, documents, limit=2, batch=2000,
                                           parallel=16)
                if sent.sent + sent.failed + sent.no_channel == 0:
                    break
    finally:
        await runner.cleanup()
    return time.perf_counter() - started, stand_in.received, runs


def run(engine, n: int) -> dict:
    migrate.upgrade(engine)
    t0 = time.perf_counter()
    fill(engine, n)
    filled = time.perf_counter() - t0
    profiles = ProfileStore(engine)
    delivery.plan(engine, profiles, [], {"known": "0"})  # the first run: nothing is news
    t0 = time.perf_counter()
    planned = delivery.plan(engine, profiles, [POLICY], {POLICY["id"]: "1"})
    plan_s = time.perf_counter() - t0
    send_s, received, runs = asyncio.run(deliver_all(engine, {POLICY["id"]: POLICY}))
    with engine.connect() as conn:
        sent = conn.execute(select(func.count()).select_from(policy_deliveries).where(
            policy_deliveries.c.status == "sent")).scalar()
    out = {"profiles": n, "fill_seconds": round(filled, 1),
           "qualifying": planned.notices, "plan_seconds": round(plan_s, 2),
           "send_seconds": round(send_s, 2), "send_runs": runs,
           "notices_sent": sent, "stand_in_received": received,
           "sent_per_second": round(sent / send_s, 1) if send_s else None,
           "total_seconds": round(plan_s + send_s, 2)}
    print(json.dumps(out, ensure_ascii=False))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profiles", type=int, default=100_000)
    ap.add_argument("--pg", default="", help="a PostgreSQL server URL (scratch database)")
    args = ap.parse_args()
    result: dict = {"when": time.strftime("%Y-%m-%d %H:%M"), "target_seconds": 60}
    with tempfile.TemporaryDirectory() as tmp:
        engine = file_engine(f"sqlite:///{tmp}/bench.db")  # WAL, as the application runs it
        result["sqlite"] = run(engine, args.profiles)
        engine.dispose()
    if args.pg:
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT", future=True)
        name = f"govbot_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            engine = create_engine(make_url(args.pg).set(database=name), future=True)
            result["postgresql"] = run(engine, args.profiles)
            engine.dispose()
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "proactive.json").write_text(json.dumps(result, ensure_ascii=False, indent=1),
                                            encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
