"""Replica scaling benchmark (not a test): 1, 2 and 4 Rasa replicas behind nginx.

    uv run python bench/cluster_load.py [--users 50 500] [--seconds 30] [--replicas 1 2 4]

Production mode on this machine's PostgreSQL (a scratch database), Redis and
RabbitMQ. For each replica count: ``govbot cluster`` is started and warmed up
(20 s, untimed), then N simulated users
(bounded aiohttp clients, 0–0.5 s think time, 5 s after an error) hold
conversations through the proxy with a realistic mix (demands with their
follow-ups, policy questions, ticket questions, greetings) for the given time,
then everything is stopped. Records answered turns/s, latency p50/p95/p99,
errors (no answer, an error status, or the proxy's "please retry" when no replica
answered within its 30 s), and the scaling ratio per added replica, for each
number of users.
Writes bench/results/cluster_load.json.
"""

from __future__ import annotations

import argparse
import asyncio
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

import aiohttp  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from bot.channels.rest_protocol import RETRY_TEXT  # noqa: E402
from bot.cluster import Cluster  # noqa: E402
from bot.logs import quiet_rasa_environment  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from bot.shell import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PG = "postgresql+psycopg2://127.0.0.1:5432/test"
WARM_UP_SECONDS = 20
RETRY_PAUSE = 5.0  # seconds a simulated user waits after an error or "please retry"
MIX = [["你好"], ["我们厂的过桥资金下个月到期，银行说不续贷了", "/deny"],
       ["研发费用加计扣除比例是多少"], ["我的工单处理到哪了"],
       ["招不到电焊工，订单要延期了", "不用了"], ["高新技术企业认定要满足哪些条件"],
       ["谢谢"], ["帮助"]]


async def user(url: str, until: float, latencies: list[float], errors: list[int],
               rnd: random.Random) -> None:
    sender = uuid.uuid4().hex
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60)) as session:
        while time.monotonic() < until:
            for message in rnd.choice(MIX):
                t0 = time.perf_counter()
                try:
                    async with session.post(f"{url}/webhooks/rest/webhook",
                                            json={"sender": sender, "message": message}) as r:
                        body = await r.text()
                        ok = r.status == 200 and RETRY_TEXT not in body
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    ok = False
                latencies.append(time.perf_counter() - t0)
                if not ok:  # a person told "please retry" waits a little first
                    errors.append(1)
                    await asyncio.sleep(RETRY_PAUSE)
                await asyncio.sleep(rnd.uniform(0, 0.5))


async def load(url: str, users: int, seconds: int) -> dict:
    latencies: list[float] = []
    errors: list[int] = []
    rnd = random.Random(9)
    started = time.monotonic()
    await asyncio.gather(*(user(url, started + seconds, latencies, errors,
                                random.Random(rnd.random())) for _ in range(users)))
    elapsed = time.monotonic() - started
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    answered = len(latencies) - len(errors)
    return {"turns": len(latencies), "answered": answered,
            "turns_per_second": round(answered / elapsed, 1),
            "p50_ms": round(1000 * q[49]), "p95_ms": round(1000 * q[94]),
            "p99_ms": round(1000 * q[98]), "errors": len(errors),
            "error_rate": round(len(errors) / len(latencies), 4)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--users", type=int, nargs="+", default=[50, 500])
    ap.add_argument("--seconds", type=int, default=30)
    ap.add_argument("--replicas", type=int, nargs="+", default=[1, 2, 4])
    args = ap.parse_args()
    quiet_rasa_environment()
    name = f"govbot_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    results: dict = {"seconds": args.seconds, "users": {}}
    try:
        for n in args.replicas:
            with tempfile.TemporaryDirectory() as tmp:
                env = {"GOVBOT_HOME": str(ROOT), "GOVBOT_MODE": "production",
                       "GOVBOT_DATABASE_URL": PG.rsplit("/", 1)[0] + f"/{name}",
                       "GOVBOT_REDIS_URL": "redis://127.0.0.1:6379/12",
                       "GOVBOT_RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/"}
                base = 20000 + random.randrange(0, 20000, 10)
                settings = replace(load_settings(env), rasa_port=base, action_port=base + 5,
                                   api_port=free_port(), var=str(Path(tmp) / "var"))
                cluster = Cluster(settings, settings.model_file, Path(tmp) / "cluster",
                                  replicas=n, port=free_port())
                cluster.start()
                try:  # untimed warm-up: every replica loads what its first turns need
                    asyncio.run(load(cluster.url, 4 * n, WARM_UP_SECONDS))
                    for users in args.users:
                        run = asyncio.run(load(cluster.url, users, args.seconds))
                        results["users"].setdefault(str(users), {"runs": {}})["runs"][
                            str(n)] = run
                        print(f"{n} replica(s), {users} users:", json.dumps(run), flush=True)
                finally:
                    cluster.stop()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    for by_users in results["users"].values():
        one = by_users["runs"].get("1", {}).get("turns_per_second")
        if one:
            by_users["scaling"] = {k: round(v["turns_per_second"] / one, 2)
                                   for k, v in by_users["runs"].items()}
    print(json.dumps({u: r.get("scaling") for u, r in results["users"].items()}))
    (ROOT / "bench" / "results").mkdir(exist_ok=True)
    (ROOT / "bench" / "results" / "cluster_load.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
