"""Fault benchmark (not a test): ``govbot cluster`` under load while its members and
services fail one after another.

    uv run python bench/faults.py [--users 50] [--replicas 2] [--out bench/results/faults.json]

Production mode on this machine's PostgreSQL (a scratch database), Redis and RabbitMQ;
needs root (it restarts PostgreSQL, Redis and RabbitMQ) and nginx. ``govbot cluster`` is
started as users start it. N simulated enterprises register problems through nginx (the
ticket form, seven messages, 0.5 s between messages; told to retry, the same message again
a second later) for the whole run, while in turn:
``kill -9`` of a Rasa replica, an action server, the web application and the event
consumer; a restart of PostgreSQL and of Redis; RabbitMQ stopped for 20 s; SIGTERM to a
Rasa replica (a graceful drain). Per fault: messages answered / told to retry / failed at
connection level while it lasted, and how long until the member (or service) served
again. At the end: ticket numbers told to users vs stored vs duplicated vs stored but
never told, and the statistics' turns vs the answered messages (after the broker
returned). Writes the results as JSON (default bench/results/faults.json).
``tests/test_faults.py`` runs it with a few users and checks the targets of issue #20.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import aiohttp  # noqa: E402
from sqlalchemy import create_engine, func, select  # noqa: E402

from bot.channels.rest_protocol import RETRY_TEXT  # noqa: E402
from bot.cluster import ClusterProcess  # noqa: E402
from bot.db.schema import tickets, turns  # noqa: E402
from bot.db.scratch import scratch_postgres  # noqa: E402
from bot.shell import consecutive_ports, free_port  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
PG_URL = os.environ.get("GOVBOT_TEST_PG_URL", "postgresql+psycopg2://127.0.0.1:5432/test")
REDIS_URL = "redis://127.0.0.1:6379/13"
AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"
FORM = ["龙游县的，我们厂的过桥资金下个月到期，银行说不续贷了", "/affirm", "{company}", "跳过",
        "王经理", "13905701234", "/affirm"]
MEMBER_KILLS = [("kill -9 Rasa replica", "replica 0 rasa-server", signal.SIGKILL),
                ("kill -9 action server", "replica 1 action-server", signal.SIGKILL),
                ("kill -9 web application", "web", signal.SIGKILL),
                ("kill -9 event consumer", "event-consumer", signal.SIGKILL)]
DRAIN = ("SIGTERM Rasa replica (drain)", "replica 1 rasa-server", signal.SIGTERM)
SETTLE = 6.0  # seconds of load after a member serves again, before the next fault


def cluster_for(database_url: str, var: Path, replicas: int) -> ClusterProcess:
    base = consecutive_ports(2 * replicas)
    env = {"GOVBOT_HOME": str(ROOT), "GOVBOT_MODE": "production",
           "GOVBOT_DATABASE_URL": database_url, "GOVBOT_REDIS_URL": REDIS_URL,
           "GOVBOT_RABBITMQ_URL": AMQP_URL, "GOVBOT_RASA_PORT": str(base),
           "GOVBOT_ACTION_PORT": str(base + replicas), "GOVBOT_API_PORT": str(free_port()),
           "GOVBOT_VAR_DIR": str(var)}
    return ClusterProcess(env, var, free_port(), replicas)


# -- the load -------------------------------------------------------------------------------
async def say(session: aiohttp.ClientSession, url: str, sender: str, message: str
              ) -> tuple[str, str]:
    """One message: its outcome (answered, retry, error, connection) and the reply text."""
    try:
        async with session.post(f"{url}/webhooks/rest/webhook",
                                json={"sender": sender, "message": message}) as r:
            status, body = r.status, await r.text()
    except (aiohttp.ClientError, asyncio.TimeoutError) as err:
        return "connection", type(err).__name__
    try:
        replies = json.loads(body) if status == 200 else []
    except ValueError:
        replies = []
    said = " ".join(str(x.get("text", "")) for x in replies)
    if status != 200 or not replies:
        return "error", said
    return ("retry" if RETRY_TEXT in said or "暂时无法" in said else "answered"), said


async def enterprise(url: str, stop: asyncio.Event, log: list[dict]) -> None:
    """One enterprise registering problems one after another, as a person does: told to
    retry, it sends the same message again a second later (up to three times). Every
    message sent is logged; after ``stop`` no new message is sent (the answer to the one
    under way is still read and logged)."""
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while not stop.is_set():
            sender = uuid.uuid4().hex
            company = f"龙游县恒丰{uuid.uuid4().hex[:6]}纸业有限公司"
            for step in FORM:
                message = step.format(company=company)
                for _ in range(4):
                    if stop.is_set():
                        return
                    started = time.monotonic()
                    kind, said = await say(session, url, sender, message)
                    ticket = said.split("工单号：")[1].split()[0].strip("，。") \
                        if "工单号：" in said else None
                    log.append({"at": started, "sender": sender, "message": step,
                                "kind": kind, "ticket": ticket})
                    if kind == "answered":
                        break
                    await asyncio.sleep(1.0)
                else:
                    break  # this enterprise gives up this conversation and starts again
                await asyncio.sleep(0.5)


# -- the faults -----------------------------------------------------------------------------
def sh(*args: str, timeout: float = 120) -> None:
    subprocess.run(list(args), check=True, timeout=timeout, capture_output=True)


def restart_redis() -> None:
    if shutil.which("service") and Path("/etc/init.d/redis-server").exists():
        sh("service", "redis-server", "restart")
    else:
        subprocess.run(["redis-cli", "shutdown", "nosave"], timeout=30, capture_output=True)
        sh("redis-server", "--bind", "127.0.0.1", "--port", "6379", "--daemonize", "yes")


def service_answers(kind: str) -> bool:
    checks = {"postgres": ["pg_isready", "-h", "127.0.0.1", "-q"],
              "redis": ["redis-cli", "ping"],
              "rabbitmq": ["rabbitmqctl", "await_online_nodes", "1"]}
    return subprocess.run(checks[kind], capture_output=True, timeout=30).returncode == 0


async def wait_member(cluster: ClusterProcess, name: str, restarts: int, limit: float = 240
                      ) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        m = cluster.members().get(name, {})
        if m.get("state") == "up" and m.get("restarts", 0) > restarts:
            return round(time.monotonic() - started, 1)
        await asyncio.sleep(0.2)
    return None


async def wait_service(kind: str, limit: float = 120) -> float | None:
    started = time.monotonic()
    while time.monotonic() - started < limit:
        if await asyncio.to_thread(service_answers, kind):
            return round(time.monotonic() - started, 1)
        await asyncio.sleep(0.2)
    return None


async def run_faults(cluster: ClusterProcess, phases: list[dict]) -> None:
    await asyncio.sleep(10)  # the load warms up
    for title, member, sig in [*MEMBER_KILLS, DRAIN]:
        before = cluster.members()[member]
        phase = {"fault": title, "member": member, "start": time.monotonic()}
        os.kill(before["pid"], sig)
        phase["serves_again_s"] = await wait_member(cluster, member, before["restarts"])
        phases.append(phase)
        await asyncio.sleep(SETTLE)
        phase["end"] = time.monotonic()
    for title, kind, action in (("restart PostgreSQL", "postgres",
                                 lambda: sh("pg_ctlcluster", "15", "main", "restart")),
                                ("restart Redis", "redis", restart_redis)):
        phase = {"fault": title, "member": kind, "start": time.monotonic()}
        await asyncio.to_thread(action)
        phase["serves_again_s"] = await wait_service(kind)
        phases.append(phase)
        await asyncio.sleep(SETTLE)
        phase["end"] = time.monotonic()
    phase = {"fault": "stop RabbitMQ for 20 s", "member": "rabbitmq",
             "start": time.monotonic()}
    await asyncio.to_thread(sh, "rabbitmqctl", "stop_app")
    await asyncio.sleep(20)
    await asyncio.to_thread(sh, "rabbitmqctl", "start_app")
    phase["serves_again_s"] = round(20 + (await wait_service("rabbitmq") or 0), 1)
    phases.append(phase)
    await asyncio.sleep(SETTLE)
    phase["end"] = time.monotonic()


def counts(log: list[dict], start: float, end: float) -> dict[str, int]:
    window = [e for e in log if start <= e["at"] < end]
    return {k: sum(1 for e in window if e["kind"] == k)
            for k in ("answered", "retry", "error", "connection")}


def recorded_turns(database_url: str) -> int:
    engine = create_engine(database_url)
    with engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(turns)).scalar_one()
    engine.dispose()
    return n


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--users", type=int, default=50)
    p.add_argument("--replicas", type=int, default=2)
    p.add_argument("--out", default=str(ROOT / "bench" / "results" / "faults.json"))
    args = p.parse_args(argv)
    if os.geteuid() != 0 or not shutil.which("nginx"):
        print("bench/faults.py needs root (pg_ctlcluster, rabbitmqctl) and nginx",
              file=sys.stderr)
        return 2
    log: list[dict] = []
    phases: list[dict] = []
    with scratch_postgres(PG_URL, "govbot_faults", pre_ping=True) as database_url, \
            tempfile.TemporaryDirectory() as tmp:
        cluster = cluster_for(database_url, Path(tmp) / "var", args.replicas)
        cluster.start()
        try:
            async def run() -> None:
                stop = asyncio.Event()
                load = [asyncio.create_task(enterprise(cluster.url, stop, log))
                        for _ in range(args.users)]
                await run_faults(cluster, phases)
                stop.set()  # the messages under way are answered and logged
                await asyncio.wait(load, timeout=90)
            asyncio.run(run())
            members_after = cluster.members()
            answered = sum(1 for e in log if e["kind"] == "answered")
            deadline = time.monotonic() + 120  # the consumer catches up after RabbitMQ
            while time.monotonic() < deadline and recorded_turns(database_url) < answered:
                time.sleep(1)
        finally:
            stopped = cluster.stop()
        counted = recorded_turns(database_url)
        engine = create_engine(database_url)
        with engine.connect() as conn:
            stored = conn.execute(select(tickets.c.number, tickets.c.sender_id)).all()
        engine.dispose()
        spool = sorted((Path(tmp) / "var" / "events-spool").glob("*.json")) \
            if (Path(tmp) / "var" / "events-spool").is_dir() else []
    told = {e["sender"]: e["ticket"] for e in log if e["ticket"]}
    by_sender: dict[str, list[str]] = {}
    for number, sender in stored:
        by_sender.setdefault((sender or "").removeprefix("rest:"), []).append(number)
    result = {
        "when": time.strftime("%Y-%m-%d %H:%M"), "users": args.users,
        "replicas": args.replicas,
        "faults": [{"fault": ph["fault"], "member": ph["member"],
                    "serves_again_s": ph["serves_again_s"],
                    **counts(log, ph["start"], ph["end"])} for ph in phases],
        "messages": counts(log, 0, float("inf")),
        "tickets": {"told": len(told), "stored": len(stored),
                    "told_and_stored_once": sum(1 for s, n in told.items()
                                                if by_sender.get(s) == [n]),
                    "duplicated": sum(1 for v in by_sender.values() if len(v) > 1),
                    "stored_untold": sum(1 for s in by_sender if s not in told)},
        "statistics": {"answered_messages": answered, "turns": counted,
                       "ratio": round(counted / answered, 4) if answered else None,
                       "events_left_in_spool": len(spool)},
        "members_after": {k: {"state": v["state"], "restarts": v["restarts"]}
                          for k, v in members_after.items()},
        "cluster_exit_code": stopped,
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"{'fault':32} {'serves again':>12} {'answered':>9} {'retry':>6} {'error':>6} "
          f"{'conn.':>6}")
    for f in result["faults"]:
        again = f"{f['serves_again_s']} s" if f["serves_again_s"] is not None else "never"
        print(f"{f['fault']:32} {again:>12} {f['answered']:>9} {f['retry']:>6} "
              f"{f['error']:>6} {f['connection']:>6}")
    print(json.dumps({k: result[k] for k in ("messages", "tickets", "statistics")},
                     ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
