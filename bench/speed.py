"""Speed and memory benchmark (not a test): prints figures and writes bench/results/.

    uv run python bench/speed.py [--skip-train] [--turns N] [--workers 2] [--clients 1,20,100]

Measures, on this machine:
  * full training time (NLU + dialogue, cold: Rasa's cache disabled) and model size;
  * in-process parse latency (p50/p95) over the held-out messages;
  * bare ``POST /model/parse`` and full REST turns at 1, 20 and 100 concurrent clients,
    in the same run: turns per second, latency p50/p95/p99, errors, and the ratio of
    the turn rate to the parse rate. Each client plays whole conversations, one after
    another (``CONVERSATIONS``: a greeting, a demand, the whole ticket form to a
    confirmed ticket, a status question, a policy question, thanks); a reply that
    misses what the conversation needs (no ticket number after 确认提交, …) counts as
    wrong;
  * peak resident memory (VmHWM) of every process of the deployment.
With ``--workers N`` the Rasa server runs N Sanic workers; Rasa then needs a shared
lock store and tracker store, so Redis (127.0.0.1:6379) is used for both.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import time
import uuid
from dataclasses import replace
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.examples import load_test_file  # noqa: E402
from bot.logs import configure_logging, quiet_rasa_environment  # noqa: E402
from bot.settings import load_settings  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def percentiles(ms: list[float]) -> dict[str, float]:
    if not ms:
        return {}
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50_ms": round(q[49], 2), "p95_ms": round(q[94], 2), "p99_ms": round(q[98], 2),
            "mean_ms": round(statistics.fmean(ms), 2)}


def peak_rss_mib(pid: int) -> float | None:
    """Peak resident set size of a process and its children (VmHWM, MiB)."""
    total = 0
    pids = [pid] + [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children")
                    .read_text().split()] if Path(f"/proc/{pid}").exists() else []
    for p in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total += int(line.split()[1])
    return round(total / 1024, 1) if total else None


#: (message, what the reply must contain — one of these, or None: anything) per turn;
#: {n} is the client's number (a distinct mobile per simulated enterprise)
CONVERSATIONS = [
    [("你好", None),
     ("龙游县的，我们厂过桥资金下个月到期了，银行说不续贷", ("登记",)),
     ("需要登记", ("企业全称",)), ("龙游县恒丰纸业有限公司", None), ("跳过", None),
     ("刘芳", None), ("139{n:08d}", ("请核对",)), ("确认提交", ("已受理",)),
     ("我的工单办得怎么样了", None),
     ("研发费用加计扣除现在比例多少", ("100%",)), ("谢谢", None)],
    [("您好", None),
     ("江山市的，厂里招不到技术工人，急", ("登记",)),
     ("要的", ("企业全称",)), ("江山市恒通机械有限公司", None), ("跳过", None),
     ("毛经理", None), ("159{n:08d}", ("请核对",)), ("确认提交", ("已受理",)),
     ("工单进度查一下", None),
     ("高新技术企业资格有效期是几年", ("三年", "3年")), ("好的谢谢", None)],
]


async def load(url: str, make_body, clients: int, total: int) -> dict:
    """``total`` bare requests from ``clients`` concurrent clients."""
    import aiohttp

    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        for i in counter:
            started = time.perf_counter()
            try:
                async with session.post(url, json=make_body(i)) as resp:
                    await resp.read()
                    errors += resp.status != 200
            except aiohttp.ClientError:
                errors += 1
            latencies.append(1000 * (time.perf_counter() - started))

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        wall = time.perf_counter() - started
    return {"clients": clients, "requests": len(latencies), "errors": errors,
            "per_second": round(len(latencies) / wall, 1), **percentiles(latencies)}


async def converse(url: str, clients: int, total: int) -> dict:
    """Whole conversations (``CONVERSATIONS``) from ``clients`` concurrent users until
    ``total`` turns were sent."""
    import aiohttp

    latencies: list[float] = []
    errors = wrong = conversations = 0
    turns = iter(range(total))

    async def say(session: aiohttp.ClientSession, sender: str, message: str) -> str | None:
        nonlocal errors
        started = time.perf_counter()
        try:
            async with session.post(url, json={"sender": sender, "message": message}) as r:
                body = await r.json() if r.status == 200 else None
        except (aiohttp.ClientError, ValueError):
            body = None
        latencies.append(1000 * (time.perf_counter() - started))
        if body is None:
            errors += 1
            return None
        return "\n".join(m.get("text", "") for m in body)

    async def client(session: aiohttp.ClientSession, n: int) -> None:
        nonlocal wrong, conversations
        k = n
        while True:
            script = CONVERSATIONS[k % len(CONVERSATIONS)]
            sender = f"bench-{uuid.uuid4().hex[:10]}"
            for message, needed in script:
                if next(turns, None) is None:
                    return
                reply = await say(session, sender, message.format(n=n * 1000 + k % 1000))
                if reply is not None and needed and not any(w in reply for w in needed):
                    wrong += 1
            conversations += 1
            k += clients

    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session, n) for n in range(clients)))
        wall = time.perf_counter() - started
    return {"clients": clients, "requests": len(latencies), "errors": errors,
            "wrong_replies": wrong, "conversations_finished": conversations,
            "per_second": round(len(latencies) / wall, 1), **percentiles(latencies)}


def process_memory(services) -> dict[str, float | None]:
    """Peak resident memory of each process of the deployment (with its children, e.g.
    the Sanic workers), and their sum."""
    memory = {name: peak_rss_mib(p.pid) for name, p in services.processes.items()}
    memory["total"] = round(sum(v for v in memory.values() if v), 1)
    return memory


def redis_endpoints(settings, run_dir: Path) -> Path:
    from bot.runner import endpoints_file

    source = endpoints_file(settings, run_dir)
    raw = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    raw["tracker_store"] = {"type": "redis", "url": "127.0.0.1", "port": 6379, "db": 1}
    raw["lock_store"] = {"type": "redis", "url": "127.0.0.1", "port": 6379, "db": 2}
    path = run_dir / "endpoints-redis.yml"
    path.write_text(yaml.safe_dump(raw))
    return path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skip-train", action="store_true", help="reuse the current model")
    ap.add_argument("--turns", type=int, default=2000, help="requests per load run (turns)")
    ap.add_argument("--clients", type=lambda v: [int(c) for c in v.split(",")],
                    default=[1, 20, 100], help="concurrent clients, comma-separated")
    ap.add_argument("--workers", type=int, default=1, help="Sanic workers of the Rasa server")
    args = ap.parse_args()
    quiet_rasa_environment()
    configure_logging()
    settings = load_settings()
    os.chdir(settings.root)
    texts = [e.text for e in load_test_file(settings.heldout_file)]
    results: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                     "when": time.strftime("%Y-%m-%d %H:%M")}

    from bot.model import train
    if not args.skip_train:
        os.environ["RASA_MAX_CACHE_SIZE"] = "0"
        with contextlib.redirect_stdout(sys.stderr):
            trained = train(settings, force=True)
        results["training_seconds"] = round(trained.seconds, 1)
    model = settings.model_file
    results["model_mib"] = round(model.stat().st_size / 2**20, 1)

    from bot.parsing import NluParser
    parser = NluParser(model)
    for t in texts[:20]:
        parser.parse(t)  # warm-up
    ms = []
    for t in texts:
        started = time.perf_counter()
        parser.parse(t)
        ms.append(1000 * (time.perf_counter() - started))
    parser.close()
    results["parse_in_process"] = {"messages": len(ms), **percentiles(ms)}
    print(json.dumps(results, ensure_ascii=False), flush=True)

    from bot.runner import Services
    from bot.shell import free_port
    live = replace(settings, rasa_port=free_port(), action_port=free_port())
    run_dir = settings.root / "var" / "bench"
    services = Services(live, model, run_dir)
    if args.workers > 1:
        os.environ["SANIC_WORKERS"] = str(args.workers)
        services.endpoints = redis_endpoints(live, run_dir)
    services.start()
    try:
        parse_body = lambda i: {"text": texts[i % len(texts)]}  # noqa: E731
        turn_url = f"{services.rasa_url}/webhooks/rest/webhook"
        asyncio.run(converse(turn_url, 4, 100))  # warm-up
        for clients in args.clients:
            parse = asyncio.run(load(services.rasa_api("/model/parse"), parse_body,
                                     clients, args.turns))
            turns = asyncio.run(converse(turn_url, clients, args.turns))
            turns["ratio_to_parse"] = round(turns["per_second"] / parse["per_second"], 2)
            results.setdefault("model_parse", []).append(parse)
            results.setdefault("rest_turn", []).append(turns)
            print("parse", json.dumps(parse), "\nturns", json.dumps(turns), flush=True)
        results["peak_rss_mib"] = process_memory(services)
        results["actions"] = live.actions
        results["sanic_workers"] = args.workers
    finally:
        services.stop()

    RESULTS.mkdir(exist_ok=True)
    suffix = "" if args.workers == 1 else f"-{args.workers}workers"
    (RESULTS / f"speed{suffix}.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
