"""Production mode: Rasa's shared state on existing engines, chosen in one place.

``GOVBOT_MODE=production`` with ``GOVBOT_DATABASE_URL`` (PostgreSQL),
``GOVBOT_REDIS_URL`` and ``GOVBOT_RABBITMQ_URL`` switches from the embedded default
(conversations and tickets in SQLite files under ``var/``) to:

* the tracker store on PostgreSQL (the same database as the tickets, Rasa's own
  ``events`` table), so any replica continues any conversation;
* the lock store on Redis, so one conversation is handled by one replica at a time
  (``bot.lock_store``: Rasa's ticket lock with atomic updates);
* the event broker on RabbitMQ (Rasa's Pika broker with publisher confirms and a local
  spool, ``bot/event_broker.py``; queue ``govbot_events``).

``check_services`` connects to each before anything starts and names the piece
that is missing or unreachable.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote, urlsplit

from sqlalchemy.engine import make_url

from bot.settings import Settings

EVENTS_QUEUE = "govbot_events"


class ServiceUnavailable(RuntimeError):
    """A shared service of production mode cannot be reached; the message names it."""


def tracker_store(settings: Settings) -> dict[str, Any]:
    url = make_url(settings.database_url)
    return {"type": "SQL", "dialect": "postgresql", "url": url.host or "127.0.0.1",
            "port": url.port or 5432, "db": url.database, "username": url.username or "",
            "password": url.password or ""}


def lock_store(settings: Settings) -> dict[str, Any]:
    u = urlsplit(settings.redis_url)
    return {"type": "bot.lock_store.AtomicRedisLockStore", "url": u.hostname or "127.0.0.1",
            "port": u.port or 6379, "db": int((u.path or "/0").lstrip("/") or 0),
            "password": unquote(u.password or "") or None, "key_prefix": "govbot"}


def event_broker(settings: Settings) -> dict[str, Any]:
    u = urlsplit(settings.rabbitmq_url)
    return {"type": "bot.event_broker.DurablePikaEventBroker",
            "url": u.hostname or "127.0.0.1", "port": u.port or 5672,
            "username": unquote(u.username or "guest"), "password": unquote(u.password or
                                                                         "guest"),
            "queues": [EVENTS_QUEUE], "spool_dir": str(settings.var_dir / "events-spool")}


def rasa_endpoints(settings: Settings) -> dict[str, Any]:
    """What endpoints.yml gets besides the action server: in the embedded default the
    conversations in a SQLite file (``var/conversations.db``), so a restart in the middle
    of a ticket form loses nothing; in production the shared services."""
    if settings.mode != "production":
        return {"tracker_store": {"type": "bot.tracker_store.SqliteTrackerStore",
                                  "db": str(settings.var_dir / "conversations.db")}}
    return {"tracker_store": tracker_store(settings), "lock_store": lock_store(settings),
            "event_broker": event_broker(settings)}


def check_services(settings: Settings, timeout: float = 3.0) -> None:
    """Connect to PostgreSQL, Redis and RabbitMQ; raise naming the first that fails."""
    if settings.mode != "production":
        return
    from sqlalchemy import create_engine, text

    url = make_url(settings.database_url)
    where = f"PostgreSQL at {url.host}:{url.port or 5432}/{url.database} (GOVBOT_DATABASE_URL)"
    try:
        engine = create_engine(settings.database_url, future=True,
                               connect_args={"connect_timeout": int(timeout)})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
    except Exception as err:  # noqa: BLE001 - any driver error means "not reachable"
        raise ServiceUnavailable(f"{where} is not reachable: {type(err).__name__}") from None

    import redis

    r = lock_store(settings)
    where = f"Redis at {r['url']}:{r['port']}/{r['db']} (GOVBOT_REDIS_URL)"
    try:
        client = redis.Redis(host=r["url"], port=r["port"], db=r["db"], password=r["password"],
                             socket_timeout=timeout, socket_connect_timeout=timeout)
        client.ping()
        client.close()
    except redis.RedisError as err:
        raise ServiceUnavailable(f"{where} is not reachable: {type(err).__name__}") from None

    import asyncio

    import aio_pika

    b = event_broker(settings)
    where = f"RabbitMQ at {b['url']}:{b['port']} (GOVBOT_RABBITMQ_URL)"

    async def amqp() -> None:
        connection = await asyncio.wait_for(aio_pika.connect(settings.rabbitmq_url), timeout)
        await connection.close()
    try:
        asyncio.run(amqp())
    except Exception as err:  # noqa: BLE001 - connection, auth and timeout errors alike
        raise ServiceUnavailable(f"{where} is not reachable: {type(err).__name__}") from None
