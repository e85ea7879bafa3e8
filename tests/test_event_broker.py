"""The replicas' event broker on this machine's RabbitMQ: every event confirmed or kept in
the local spool, the spool published again by the next replica, a graceful stop losing
nothing; the statistics consumer counts an event delivered twice once."""

import asyncio
import json
import time
import uuid

import aio_pika
import pytest
from conftest import AMQP_URL
from sqlalchemy import func, select

from bot.db import migrate
from bot.db.schema import turns
from bot.event_broker import DurablePikaEventBroker
from bot.events import TurnRecorder

pytestmark = pytest.mark.rabbitmq


@pytest.fixture
async def queue():
    """A queue of its own for each test (the broker binds it to its exchange)."""
    name = f"govbot_test_{uuid.uuid4().hex[:8]}"
    yield name
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        await channel.queue_delete(name)


async def broker(queue, spool, exchange):
    b = DurablePikaEventBroker("127.0.0.1", "guest", "guest", queues=[queue],
                               spool_dir=str(spool), exchange_name=exchange)
    await b.connect()
    return b


async def received(queue, idle=1.0):
    out = []
    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        q = await channel.declare_queue(queue, durable=True)
        while (message := await q.get(fail=False, timeout=idle)) is not None:
            await message.ack()
            out.append(message.body)
    return out


def event(n):
    return {"event": "user", "sender_id": f"s{n}", "timestamp": time.time(), "text": f"m{n}"}


async def test_a_graceful_stop_loses_no_event(queue, tmp_path):
    exchange = f"x_{queue}"
    b = await broker(queue, tmp_path / "spool", exchange)
    for n in range(200):
        b.publish(event(n))
    await b.close()  # at once: what is not confirmed yet is drained or spooled
    spooled = len(list((tmp_path / "spool").glob("*.json")))
    got = await received(queue)
    assert len(got) + spooled == 200 and len(got) > 0


async def test_events_are_spooled_while_the_broker_is_away_and_published_later(queue,
                                                                               tmp_path):
    exchange = f"x_{queue}"
    spool = tmp_path / "spool"
    b = await broker(queue, spool, exchange)
    await b._connection.close()  # RabbitMQ gone (the connection is closed)
    for n in range(450):  # more than one batch
        b.publish(event(n))
    await asyncio.sleep(1.0)
    assert len(list(spool.glob("*.json"))) == 450
    await b.close()
    # a replica died while publishing the spool: the files it had claimed come back
    orphan = next(spool.glob("*.json"))
    orphan.rename(orphan.with_suffix(".999999999.claimed"))
    # the replica restarts (or another replica on this machine starts): it publishes them
    again = await broker(queue, spool, exchange)
    assert await again.replay() == 450
    await again.close()
    assert list(spool.glob("*")) == []
    got = await received(queue)
    assert sorted(json.loads(m)["sender_id"] for m in got) == sorted(f"s{n}" for n in range(450))


def test_an_event_delivered_twice_is_counted_once(engine):
    migrate.upgrade(engine)
    recorder = TurnRecorder(engine)
    e = {**event(1), "input_channel": "rest",
         "parse_data": {"intent": {"name": "greet", "confidence": 0.9}}}
    recorder.record(e)
    recorder.record(e)  # published again from a spool
    recorder.record({**e, "timestamp": e["timestamp"] + 1})  # the next message
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(turns)).scalar_one() == 2


async def test_the_consumer_waits_for_rabbitmq_instead_of_exiting(engine, caplog):
    """RabbitMQ away (here: nothing listens): the consumer keeps trying, as a service
    should, rather than exiting for its supervisor to count a crash loop."""
    import socket

    from bot.events import consume

    migrate.upgrade(engine)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    task = asyncio.create_task(consume(engine, f"amqp://guest:guest@127.0.0.1:{port}/",
                                       retry_seconds=0.1))
    await asyncio.sleep(1.0)
    assert not task.done(), task.exception()
    assert caplog.text.count("reading again in") >= 2
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    with pytest.raises(ConnectionError):  # --once (a one-off read) says so at once
        await consume(engine, f"amqp://guest:guest@127.0.0.1:{port}/", once=True)
