"""Speed and memory benchmark (not a test): prints figures and writes bench/results/.

    uv run python bench/speed.py [--skip-train] [--requests N] [--workers 2]

Measures, on this machine:
  * full training time (NLU + dialogue, cold: Rasa's cache disabled) and model size;
  * in-process parse latency (p50/p95) over the held-out messages;
  * POST /model/parse and the REST webhook (a full turn: NLU, policies, action server)
    at 1 and 20 concurrent clients: latency p50/p95/p99, throughput, errors; each
    client sends held-out messages as conversations of 10 turns;
  * peak resident memory (VmHWM) of the Rasa server and the action server.
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
CONVERSATION_TURNS = 10


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


async def load(url: str, make_body, clients: int, total: int) -> dict:
    import aiohttp

    latencies: list[float] = []
    errors = 0
    counter = iter(range(total))

    async def client(session: aiohttp.ClientSession, user: str) -> None:
        nonlocal errors
        for n, i in enumerate(counter):
            # a simulated user holds conversations of CONVERSATION_TURNS messages each
            sender = f"{user}-{n // CONVERSATION_TURNS}"
            started = time.perf_counter()
            try:
                async with session.post(url, json=make_body(sender, i)) as resp:
                    await resp.read()
                    if resp.status != 200:
                        errors += 1
            except aiohttp.ClientError:
                errors += 1
            latencies.append(1000 * (time.perf_counter() - started))

    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(client(session, f"bench-{uuid.uuid4().hex[:8]}")
                               for _ in range(clients)))
        wall = time.perf_counter() - started
    return {"clients": clients, "requests": len(latencies), "errors": errors,
            "per_second": round(len(latencies) / wall, 1), **percentiles(latencies)}


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
    ap.add_argument("--requests", type=int, default=2000, help="requests per load run")
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
        base = services.rasa_url
        parse_body = lambda sender, i: {"text": texts[i % len(texts)]}  # noqa: E731
        turn_body = lambda sender, i: {"sender": sender,  # noqa: E731
                                       "message": texts[i % len(texts)]}
        for name, url, body in (("model_parse", services.rasa_api("/model/parse"), parse_body),
                                ("rest_turn", f"{base}/webhooks/rest/webhook", turn_body)):
            for clients in (1, 20):
                asyncio.run(load(url, body, clients, 50))  # warm-up
                row = asyncio.run(load(url, body, clients, args.requests))
                results.setdefault(name, []).append(row)
                print(name, json.dumps(row), flush=True)
        results["rasa_server_peak_rss_mib"] = peak_rss_mib(services.processes["rasa-server"].pid)
        actions = services.processes.get("action-server")  # absent: actions in process
        results["action_server_peak_rss_mib"] = peak_rss_mib(actions.pid) if actions else None
        results["web_peak_rss_mib"] = peak_rss_mib(services.processes["web"].pid)
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
