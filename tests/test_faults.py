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
from conftest import AMQP_URL, eventually_sync, service_missing
from sqlalchemy import create_engine, func, select

from bot.channels.rest_protocol import RETRY_TEXT
from bot.db.schema import tickets, turns

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.rabbitmq, pytest.mark.nginx]


@pytest.fixture(autouse=True)
def fault_tools():
    """Stopping and starting the services takes root and their control tools."""
    if os.geteuid() != 0 or not shutil.which("pg_ctlcluster") or not shutil.which("rabbitmqctl"):
        service_missing("fault injection needs root and the local PostgreSQL / RabbitMQ tools "
                        "(pg_ctlcluster, rabbitmqctl), as in CI")

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
                await asyncio.sleep(0.2)  # a person's pause between messages: the load's pace


async def faults(cluster, started):
    async def at(second):  # the faults' schedule, in seconds of the load run
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
    await asyncio.sleep(20)  # the outage itself is the fault under test
    await asyncio.to_thread(rabbit, "start_app")


def answered_messages(log) -> int:
    return sum(1 for e in log if e["status"] == 200 and RETRY_TEXT not in e["texts"])


def recorded_turns(database_url) -> int:
    """The turns the cluster's event consumer has recorded so far."""
    engine = create_engine(database_url, future=True)
    with engine.connect() as conn:
        counted = conn.execute(select(func.count()).select_from(turns)).scalar_one()
    engine.dispose()
    return counted


def test_faults_during_load_lose_nothing(two_replicas, scratch_pg):
    cluster = two_replicas
    cluster.start()
    log: list[dict] = []
    try:
        async def run():
            started = time.monotonic()
            await asyncio.gather(faults(cluster, started),
                                 *(client(cluster.url, started + 75, log) for _ in range(6)))
        asyncio.run(run())
        # late events (kept by Rasa while RabbitMQ was away) reach the cluster's consumer
        enough = 0.9 * answered_messages(log)
        eventually_sync(lambda: recorded_turns(scratch_pg) >= enough, timeout=30, interval=1)
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

    asyncio.run(consume(engine, AMQP_URL, once=True))  # what the cluster's consumer left
    with engine.connect() as conn:
        counted = len(conn.execute(select(turns.c.id)).all())
    engine.dispose()
    answered = answered_messages(log)
    assert counted >= 0.9 * answered, (counted, answered)
