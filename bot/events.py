"""The conversation-event consumer: RabbitMQ (Rasa's event broker) → the ``turns`` table.

In production mode every Rasa replica publishes each conversation event to the
queue ``govbot_events``. ``govbot events consume`` (started by ``govbot cluster``)
turns them into one row per user message — channel, intent, NLU confidence,
domain, and the turn's latency (user event → first bot event of the same
conversation) — for the statistics and the Prometheus metrics. Messages are
acknowledged only after their row is committed, so nothing is lost when the
consumer or the database stops; while RabbitMQ is down, each replica's broker spools
the events and publishes them when it is back (``bot/event_broker.py``). A user event
delivered twice is counted once (``turns.event_key``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError, OperationalError, SQLAlchemyError

from bot.db.schema import turns
from bot.parsing import label_name
from bot.production import EVENTS_QUEUE

logger = logging.getLogger(__name__)

#: the conversation ``govbot run`` plays before it reports ready (bot/runner.py): not a
#: user's, so never a statistic
WARM_UP_SENDER = "govbot-warm-up"


class TurnRecorder:
    """Keeps, per conversation, the id of its latest user turn to fill in its latency."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._open: dict[str, tuple[int, float]] = {}  # sender → (row id, user timestamp)

    def record(self, event: dict[str, Any]) -> None:
        sender, kind, ts = event.get("sender_id"), event.get("event"), event.get("timestamp")
        if not sender or ts is None or sender == WARM_UP_SENDER:
            return
        if kind == "user":
            parse = event.get("parse_data") or {}
            intent = parse.get("intent") or {}
            if str(intent.get("name") or "").startswith("EXTERNAL_"):
                return  # notifications, not users
            key = hashlib.sha1(f"{sender}|{ts!r}".encode()).hexdigest()
            try:
                with self.engine.begin() as conn:
                    row = conn.execute(insert(turns).values(
                        at=datetime.fromtimestamp(ts, timezone.utc),
                        channel=event.get("input_channel") or "unknown",
                        intent=intent.get("name") or "", confidence=intent.get("confidence"),
                        domain=label_name(parse.get("domain")),
                        event_key=key)).inserted_primary_key[0]
            except IntegrityError as err:
                if "event_key" not in str(err.orig):
                    raise
                return  # delivered again (a replica's spool): counted already
            if sender not in self._open or self._open[sender][1] <= ts:
                self._open[sender] = (row, ts)  # an older event replayed late pairs nothing
        elif kind == "bot" and sender in self._open:
            row, started = self._open.pop(sender)
            with self.engine.begin() as conn:
                conn.execute(update(turns).where(turns.c.id == row).values(
                    latency_ms=round(1000 * max(0.0, ts - started))))


async def consume(engine: Engine, rabbitmq_url: str, once: bool = False,
                  idle_seconds: float = 2.0, retry_seconds: float = 2.0) -> int:
    """Consume the queue (forever, or with ``once`` until it is idle); the number of
    events read. Forever means also through RabbitMQ or the database being away: the
    consumer reads again ``retry_seconds`` later (an event not yet acknowledged is
    delivered again), instead of exiting each time one of them restarts."""
    import aio_pika
    from aiormq.exceptions import AMQPError

    recorder = TurnRecorder(engine)
    count = 0

    async def read() -> None:
        nonlocal count
        connection = await aio_pika.connect_robust(rabbitmq_url)
        async with connection:
            channel = await connection.channel()
            await channel.set_qos(prefetch_count=100)
            queue = await channel.declare_queue(EVENTS_QUEUE, durable=True)
            async with queue.iterator() as messages:
                while True:
                    try:
                        message = await asyncio.wait_for(messages.__anext__(),
                                                         idle_seconds if once else None)
                    except asyncio.TimeoutError:
                        return
                    try:
                        event = json.loads(message.body)
                        if not isinstance(event, dict):
                            raise ValueError("not an object")
                    except ValueError:
                        logger.warning("Event consumer: a message that is not JSON was "
                                       "dropped")
                        await message.ack()
                        continue
                    try:
                        await asyncio.to_thread(recorder.record, event)
                    except (SQLAlchemyError, TypeError, ValueError, AttributeError) as err:
                        if isinstance(err, OperationalError):  # the database is away: not
                            raise  # the message's fault — it is delivered again later
                        logger.warning("Event consumer: an event that cannot be recorded "
                                       "was dropped (%s)", type(err).__name__)
                    await message.ack()  # after the row is committed
                    count += 1

    while True:
        try:
            await read()
            return count
        except (AMQPError, ConnectionError, OperationalError) as err:
            if once:
                raise
            logger.warning("Event consumer: %s (RabbitMQ or the database is away); reading "
                           "again in %.0f s", type(err).__name__, retry_seconds)
            await asyncio.sleep(retry_seconds)
