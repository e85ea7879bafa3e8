"""Fault injection during a load run on two replicas behind nginx (production mode):
a Rasa replica is killed, an action server is killed, PostgreSQL restarts, RabbitMQ
stops for 20 s. Afterwards: every message got one answer or a clear "please retry",
no confirmed ticket is lost or duplicated, and the events published while the
broker was down reach the statistics.

Bounded (about two minutes) and self-healing: every stopped service is started
again in ``finally``. Needs root (pg_ctlcluster, rabbitmqctl), as in CI.
"""

import asyncio
import json
import os
import shutil
import subprocess
import time
import uuid

import aiohttp
import pytest
from sqlalchemy import create_engine, select
from test_cluster import two_replicas
from test_production import AMQP, scratch_pg  # noqa: F401 - the fixture

from bot.channels.rest_protocol import RETRY_TEXT
from bot.tickets.schema import tickets

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("pg_ctlcluster") or not shutil.which("rabbitmqctl"),
    reason="fault injection needs root and the local PostgreSQL / RabbitMQ tools")

FORM = ["龙游县的，我们厂的过桥资金下个月到期，银行说不续贷了", "/affirm", "{company}", "跳过",
        "王经理", "13905701234", "/affirm"]


def pg(action):
    subprocess.run(["pg_ctlcluster", "15", "main", action], check=True, timeout=60)


def rabbit(action):
    subprocess.run(["rabbitmqctl", action], check=True, timeout=60, capture_output=True)


async def client(url, until, log):
    """One enterprise registering problems one after another; every answer is logged."""
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=40)) as session:
        while time.monotonic() < until:
            sender = uuid.uuid4().hex
            company = f"龙游县恒丰{uuid.uuid4().hex[:4]}纸业有限公司"
            for step in FORM:
                message = step.format(company=company)
                try:
                    async with session.post(f"{url}/webhooks/rest/webhook",
                                            json={"sender": sender, "message": message}) as r:
                        body = await r.text()
                        status = r.status
                except (aiohttp.ClientError, asyncio.TimeoutError) as err:
                    body, status = type(err).__name__, 0
                replies = json.loads(body) if status == 200 else []
                texts = " ".join(x.get("text", "") for x in replies)
                log.append({"sender": sender, "message": message, "status": status,
                            "texts": texts, "replies": len(replies)})
                if status != 200 or RETRY_TEXT in texts or "暂时无法" in texts:
                    break  # this enterprise gives up this time and starts again
                await asyncio.sleep(0.2)


async def faults(cluster, started):
    async def at(second):
        await asyncio.sleep(max(0.0, started + second - time.monotonic()))
    await at(5)
    cluster.members[0].processes["rasa-server"].kill()  # a Rasa replica dies
    await at(15)
    action = cluster.members[1].processes.pop("action-server")
    action.kill()  # the other replica's action server dies …
    await at(22)
    cluster.members[1].start_actions()  # … and is restarted by its supervisor
    await at(30)
    await asyncio.to_thread(pg, "restart")  # PostgreSQL restarts
    await at(45)
    await asyncio.to_thread(rabbit, "stop_app")  # RabbitMQ is away for 20 s
    await asyncio.sleep(20)
    await asyncio.to_thread(rabbit, "start_app")


def test_faults_during_load_lose_nothing(settings, model_file, scratch_pg, tmp_path):  # noqa: F811
    cluster = two_replicas(settings, model_file, scratch_pg, tmp_path)
    cluster.start()
    log: list[dict] = []
    try:
        async def run():
            started = time.monotonic()
            await asyncio.gather(faults(cluster, started),
                                 *(client(cluster.url, started + 75, log) for _ in range(6)))
        asyncio.run(run())
        time.sleep(5)  # late events, outbox
    finally:
        subprocess.run(["rabbitmqctl", "start_app"], timeout=60, capture_output=True)
        subprocess.run(["pg_ctlcluster", "15", "main", "start"], timeout=60,
                       capture_output=True)
        cluster.stop()

    # every message: one answer (with text), or a clear "please retry"
    unanswered = [e for e in log if e["status"] != 200 or not e["replies"]]
    assert log and not unanswered, [[(x["message"], x["texts"][:60]) for x in log
                                     if x["sender"] == e["sender"]] for e in unanswered[:3]]
    confirmed = {}
    for e in log:
        if e["message"] == "/affirm" and "工单号：" in e["texts"]:
            confirmed[e["sender"]] = e["texts"].split("工单号：")[1].split()[0]
    assert len(confirmed) >= 5  # the load did its work through the faults
    engine = create_engine(scratch_pg, future=True)
    with engine.connect() as conn:
        rows = conn.execute(select(tickets.c.number, tickets.c.sender_id)).all()
    by_sender: dict[str, list[str]] = {}
    for number, sender in rows:
        by_sender.setdefault(sender.removeprefix("rest:"), []).append(number)
    for sender, number in confirmed.items():
        assert by_sender.get(sender) == [number]  # there, and only once
    assert all(len(v) == 1 for v in by_sender.values())  # no duplicates at all

    # events published while RabbitMQ was down reach the statistics
    from bot.events import consume
    from bot.tickets.schema import turns

    asyncio.run(consume(engine, AMQP, once=True))  # what the cluster's consumer left
    with engine.connect() as conn:
        counted = len(conn.execute(select(turns.c.id)).all())
    engine.dispose()
    answered = sum(1 for e in log if e["status"] == 200 and RETRY_TEXT not in e["texts"])
    assert counted >= 0.9 * answered, (counted, answered)
