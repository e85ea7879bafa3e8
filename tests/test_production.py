"""Production mode on this machine's PostgreSQL, Redis and RabbitMQ: settings checked at
start-up, endpoints generated, and a conversation that survives a restart of the Rasa
server because its state lives in PostgreSQL, with its events published to RabbitMQ."""

import asyncio
import json
import os
import uuid
from dataclasses import replace

import pytest
from conftest import AMQP_URL, PG_URL, eventually_sync, say_to, service_missing
from conftest import production_env as env  # the environment of production mode
from sqlalchemy import create_engine, text

from bot.production import EVENTS_QUEUE, ServiceUnavailable, check_services, rasa_endpoints
from bot.runner import Services
from bot.settings import SettingsError, load_settings
from bot.shell import free_port


def shared_services(test):
    """Mark a test that needs all three shared services of production mode."""
    return pytest.mark.postgres(pytest.mark.redis(pytest.mark.rabbitmq(test)))


@pytest.mark.parametrize("change,message", [
    ({"GOVBOT_REDIS_URL": ""}, "needs GOVBOT_REDIS_URL"),
    ({"GOVBOT_RABBITMQ_URL": "", "GOVBOT_DATABASE_URL": ""},
     "needs GOVBOT_DATABASE_URL, GOVBOT_RABBITMQ_URL"),
    ({"GOVBOT_DATABASE_URL": "sqlite:///x.db"}, "needs a PostgreSQL"),
    ({"GOVBOT_RABBITMQ_URL": "http://x"}, "must look like amqp://"),
    ({"GOVBOT_MODE": "cluster"}, "must be embedded or production"),
])
def test_missing_pieces_are_named_at_start_up(settings, change, message):
    with pytest.raises(SettingsError, match=message):
        load_settings(env(GOVBOT_HOME=str(settings.root), **change))


def test_endpoints_for_the_shared_state(settings):
    s = load_settings(env(GOVBOT_HOME=str(settings.root),
                          GOVBOT_DATABASE_URL="postgresql+psycopg2://bot:p%40ss@db.local:6432/gov",
                          GOVBOT_REDIS_URL="redis://:secret@cache.local:6380/2",
                          GOVBOT_RABBITMQ_URL="amqp://mq:pw@mq.local:5673/"))
    e = rasa_endpoints(s)
    assert e["tracker_store"] == {"type": "SQL", "dialect": "postgresql", "url": "db.local",
                                  "port": 6432, "db": "gov", "username": "bot",
                                  "password": "p@ss"}
    assert (e["lock_store"]["url"], e["lock_store"]["port"], e["lock_store"]["db"],
            e["lock_store"]["password"]) == ("cache.local", 6380, 2, "secret")
    assert (e["event_broker"]["url"], e["event_broker"]["port"], e["event_broker"]["username"]
            ) == ("mq.local", 5673, "mq")
    assert rasa_endpoints(settings) == {"tracker_store": {  # the embedded default: SQLite
        "type": "bot.tracker_store.SqliteTrackerStore",
        "db": str(settings.var_dir / "conversations.db")}}


@shared_services
def test_every_shared_service_is_checked_and_named(settings):
    check_services(load_settings(env(GOVBOT_HOME=str(settings.root))))  # all three answer
    for var, dead, name in (
            ("GOVBOT_DATABASE_URL", "postgresql+psycopg2://127.0.0.1:1/none", "PostgreSQL"),
            ("GOVBOT_REDIS_URL", "redis://127.0.0.1:1/0", "Redis"),
            ("GOVBOT_RABBITMQ_URL", "amqp://guest:guest@127.0.0.1:1/", "RabbitMQ")):
        with pytest.raises(ServiceUnavailable, match=f"{name} at 127.0.0.1:1.*{var}"):
            check_services(load_settings(env(GOVBOT_HOME=str(settings.root), **{var: dead})),
                           timeout=2)


def stored_events(database_url, sender) -> int:
    """The conversation's events in the tracker store."""
    engine = create_engine(database_url, future=True)
    with engine.connect() as conn:
        stored = conn.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"),
                              {"s": sender}).scalar_one()
    engine.dispose()
    return stored


async def queued(queue_name) -> int:
    """How many messages wait in the queue (declared passively: none is consumed)."""
    import aio_pika

    connection = await aio_pika.connect(AMQP_URL)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(queue_name, durable=True, passive=True)
        return queue.declaration_result.message_count


def all_published(database_url, sender) -> bool:
    """Rasa's broker publishes in the background: whether every event stored so far is
    in the (drained beforehand) queue."""
    return asyncio.run(queued(EVENTS_QUEUE)) >= stored_events(database_url, sender)


async def drain_queue(queue_name):
    import aio_pika

    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel()
    queue = await channel.declare_queue(queue_name, durable=True)
    bodies = []
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        bodies.append(json.loads(message.body))
    await connection.close()
    return bodies


@shared_services
def test_a_conversation_survives_a_restart_and_is_published(settings, model_file, scratch_pg,
                                                            tmp_path):
    asyncio.run(drain_queue(EVENTS_QUEUE))  # start from an empty queue
    live = replace(load_settings(env(GOVBOT_HOME=str(settings.root),
                                     GOVBOT_DATABASE_URL=scratch_pg)),
                   rasa_port=free_port(), action_port=free_port(), api_port=free_port(),
                   var=str(tmp_path / "var"))
    svc = Services(live, model_file, tmp_path / "run")
    svc.start()
    sender = uuid.uuid4().hex
    try:
        first = say_to(svc.rasa_url, sender, "我们厂的过桥资金下个月到期，银行说不续贷了")
        assert "需要为您登记" in first
        assert "企业全称" in say_to(svc.rasa_url, sender, "/affirm")
        # restart the Rasa server: the form's state comes back from PostgreSQL. (Rasa's
        # broker publishes in the background: wait until it has before stopping, as a
        # graceful shutdown behind the proxy would.)
        eventually_sync(lambda: all_published(scratch_pg, sender))
        rasa = svc.processes.pop("rasa-server")
        rasa.terminate()
        rasa.wait(30)
        svc.start_rasa()
        assert "统一社会信用代码" in say_to(svc.rasa_url, sender, "龙游县恒丰纸业有限公司")
        # the last turn's events are published in the background
        eventually_sync(lambda: all_published(scratch_pg, sender))
    finally:
        svc.stop()
    assert stored_events(scratch_pg, sender) > 5
    # the consumer turns the published events into turns with intent and latency
    from bot.db.schema import turns
    from bot.events import consume

    engine = create_engine(scratch_pg, future=True)
    read = asyncio.run(consume(engine, AMQP_URL, once=True))
    with engine.connect() as conn:
        rows = conn.execute(turns.select().order_by(turns.c.id)).all()
    engine.dispose()
    assert read > 10 and len(rows) == 3  # three user messages (the third fills the form)
    assert [r.intent for r in rows][:2] == ["report_need", "affirm"]
    assert all(r.channel == "rest" and r.latency_ms is not None for r in rows), rows
    assert rows[0].domain == "finance" and 0 < rows[0].confidence <= 1


@pytest.mark.postgres
def test_a_backup_restores_the_tickets(scratch_pg, tmp_path):
    """The documented backup (pg_dump -Fc) restored into a new database (pg_restore)."""
    import shutil
    import subprocess

    from sqlalchemy.engine import make_url

    from bot.db import migrate
    from bot.tickets.calendar import WorkCalendar
    from bot.tickets.model import Enterprise, NewTicket
    from bot.tickets.routing import load_routing
    from bot.tickets.service import TicketService
    from bot.tickets.store import SqlTicketStore

    if not shutil.which("pg_dump"):
        service_missing("needs pg_dump and pg_restore: apt install postgresql-client")
    engine = create_engine(scratch_pg, future=True)
    migrate.upgrade(engine)
    service = TicketService(SqlTicketStore(engine), load_routing(
        load_settings({"GOVBOT_HOME": os.getcwd()}).routing_file), WorkCalendar())
    number = service.open(NewTicket(Enterprise("龙游县恒丰纸业有限公司"), "龙游", "finance",
                                    "bridge_loan", "过桥资金到期"), "test").ticket.number
    engine.dispose()
    url = make_url(scratch_pg)
    dump = tmp_path / "govbot.dump"
    conn = ["-h", url.host, "-p", str(url.port or 5432)]
    subprocess.run(["pg_dump", *conn, "-Fc", "-f", str(dump), url.database], check=True)
    restored = f"{url.database}_restored"
    admin = create_engine(PG_URL, future=True, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{restored}"'))
    try:
        subprocess.run(["pg_restore", *conn, "-d", restored, str(dump)], check=True)
        engine = create_engine(PG_URL.rsplit("/", 1)[0] + f"/{restored}", future=True)
        back = SqlTicketStore(engine)
        assert back.get(number).department == "龙游县金融工作服务中心"
        assert [e.kind for e in back.events(number)] == ["created", "transition"]
        engine.dispose()
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE "{restored}" WITH (FORCE)'))
        admin.dispose()
