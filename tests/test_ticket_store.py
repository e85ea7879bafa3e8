"""The ticket store on SQLite and on the PostgreSQL server of this machine."""

import threading
from dataclasses import replace

import pytest
from conftest import scratch_postgres
from sqlalchemy import create_engine, inspect, text

from bot.db import migrate
from bot.tickets.model import (
    ConcurrentUpdate,
    Enterprise,
    IllegalTransition,
    InvalidTicket,
    NewTicket,
    Status,
    TicketNotFound,
    replay,
)
from bot.tickets.store import SqlTicketStore


@pytest.fixture
def store(engine):
    migrate.upgrade(engine)
    return SqlTicketStore(engine)


NEW = NewTicket(
    enterprise=Enterprise("江山市宏达门业有限公司", "91110108551385082Q", "王经理", "13905701234"),
    region="江山", domain="finance", subtopic="bridge_loan",
    text="我们厂的过桥资金下个月到期，银行说不续贷了", sender_id="rest:u1")


def test_migrations_are_idempotent(engine):
    migrate.upgrade(engine)
    migrate.upgrade(engine)
    tables = set(inspect(engine).get_table_names())
    assert {"tickets", "ticket_events", "ticket_sequences"} <= tables


def test_the_migrations_build_the_declared_schema(engine):
    """``schema.py`` (what the code queries) and the migrations (what databases get)
    describe the same tables, columns and indexes."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.db.schema import metadata

    migrate.upgrade(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert [d for d in differences
            if not (d[0] == "remove_table" and d[1].name == "ticket_store_version")] == []


def test_create_numbers_by_region_and_day(store):
    first, second = store.create(NEW, "rest:u1"), store.create(NEW, "rest:u1")
    assert first.number.startswith("QZ-") and first.number.endswith("-0001")
    assert second.number.endswith("-0002")
    assert first.region == "江山市" and first.status is Status.SUBMITTED
    other = store.create(replace(NEW, region="岱山县"), "rest:u2")
    assert other.number.startswith("ZS-") and other.number.endswith("-0001")


def test_created_event_rebuilds_the_ticket(store):
    t = store.create(NEW, "rest:u1")
    t = store.transition(t.number, Status.ASSIGNED, "dispatcher", t.version,
                         reason="routing rule", department="江山市金融办", level="county")
    store.add_note(t.number, "handler:1", "已电话联系企业")
    events = store.events(t.number)
    assert [e.kind for e in events] == ["created", "transition", "note"]
    assert [e.seq for e in events] == [1, 2, 3]
    rebuilt = replay(events)
    assert (rebuilt.status, rebuilt.version, rebuilt.department) == (
        t.status, t.version, t.department)


def test_illegal_transition_changes_nothing(store):
    t = store.create(NEW, "rest:u1")
    with pytest.raises(IllegalTransition):
        store.transition(t.number, Status.RATED, "x", t.version)
    assert store.get(t.number) == t
    assert len(store.events(t.number)) == 1


def test_stale_version_is_rejected(store):
    t = store.create(NEW, "rest:u1")
    store.transition(t.number, Status.ASSIGNED, "a", t.version, department="金融办")
    with pytest.raises(ConcurrentUpdate):
        store.transition(t.number, Status.CLOSED, "b", t.version)
    assert store.get(t.number).status is Status.ASSIGNED


def test_two_writers_one_wins(store):
    t = store.create(NEW, "rest:u1")
    outcomes: list[str] = []
    barrier = threading.Barrier(2)

    def writer(to: Status) -> None:
        barrier.wait()
        try:
            store.transition(t.number, to, f"writer-{to.value}", t.version)
            outcomes.append("ok")
        except ConcurrentUpdate:
            outcomes.append("conflict")

    threads = [threading.Thread(target=writer, args=(s,))
               for s in (Status.ASSIGNED, Status.ESCALATED)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=30)
    assert sorted(outcomes) == ["conflict", "ok"]
    final = store.get(t.number)
    assert final.version == 2 and len(store.events(t.number)) == 2


def test_concurrent_creation_never_reuses_a_number(store):
    numbers: list[str] = []
    lock = threading.Lock()

    def create() -> None:
        for _ in range(5):
            n = store.create(NEW, "rest:u1").number
            with lock:
                numbers.append(n)

    threads = [threading.Thread(target=create) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert len(numbers) == 20 and len(set(numbers)) == 20


@pytest.mark.parametrize("change,field", [
    ({"enterprise": Enterprise("")}, "enterprise name"),
    ({"enterprise": Enterprise("某公司", "91110108551385082R")}, "GB 32100"),
    ({"enterprise": Enterprise("某公司", mobile="12345")}, "mobile"),
    ({"region": "上海"}, "region"),
    ({"subtopic": "rd_deduction"}, "sub-topic"),
    ({"text": "  "}, "words"),
])
def test_invalid_tickets_are_rejected_and_nothing_is_written(store, change, field):
    with pytest.raises(InvalidTicket, match=field):
        store.create(replace(NEW, **change), "rest:u1")
    with store.engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM tickets")).scalar_one() == 0


def test_unknown_ticket(store):
    with pytest.raises(TicketNotFound):
        store.get("QZ-20000101-0001")
    with pytest.raises(TicketNotFound):
        store.add_note("QZ-20000101-0001", "x", "y")


def test_find_open_by_enterprise_and_subtopic(store):
    from datetime import datetime, timedelta, timezone

    t = store.create(NEW, "rest:u1")
    since = datetime.now(timezone.utc) - timedelta(days=30)
    assert [x.number for x in store.find_open("bridge_loan", since,
                                              credit_code=NEW.enterprise.credit_code)] == [
        t.number]
    assert [x.number for x in store.find_open("bridge_loan", since, sender_id="rest:u1")] == [
        t.number]
    assert store.find_open("contract_debt", since, sender_id="rest:u1") == []
    assert store.find_open("bridge_loan", datetime.now(timezone.utc) + timedelta(days=1),
                           sender_id="rest:u1") == []
    store.transition(t.number, Status.CLOSED, "admin", t.version, reason="withdrawn")
    assert store.find_open("bridge_loan", since, sender_id="rest:u1") == []


def test_deadlines_are_stored_and_logged(store):
    from datetime import date

    t = store.create(NEW, "rest:u1")
    t = store.transition(t.number, Status.ASSIGNED, "router", t.version, department="金融办",
                         first_response_due=date(2026, 10, 8), resolution_due=date(2026, 10, 13))
    assert (t.first_response_due, t.resolution_due) == (date(2026, 10, 8), date(2026, 10, 13))
    assert replay(store.events(t.number)).resolution_due == date(2026, 10, 13)


def assigned(store, new=NEW, due=(2026, 10, 13)):
    from datetime import date

    from bot.tickets.store import Assignment

    return store.create(new, "rest:u1", assignment=Assignment(
        "江山市金融工作服务中心", "county", "routing test", date(2026, 10, 8), date(*due)))


def test_creation_with_assignment_is_one_transaction(store):
    t = assigned(store)
    assert t.status is Status.ASSIGNED and t.version == 2
    assert replay(store.events(t.number)) == t


def test_a_request_key_is_used_once(store):
    from sqlalchemy.exc import IntegrityError

    t = assigned(store)
    store.add_note(t.number, "rest:u1", "again", request_key="k1")
    with pytest.raises(IntegrityError):
        store.create(replace(NEW, text="another"), "rest:u1", request_key="k1")
    with store.engine.connect() as conn:  # the failed create left nothing behind
        assert conn.execute(text("SELECT count(*) FROM tickets")).scalar_one() == 1
    assert store.by_request("k1") == (t, True) and store.by_request("k2") is None


def test_queue_filters_and_overdue(store):
    from datetime import date

    from bot.tickets.store import Query

    late = assigned(store, due=(2026, 10, 13))
    soon = assigned(store, replace(NEW, region="龙游", sender_id="rest:u2"), due=(2026, 12, 31))
    done = assigned(store, replace(NEW, subtopic="loan_financing"), due=(2026, 10, 1))
    done = store.transition(done.number, Status.IN_PROGRESS, "h", done.version)
    store.transition(done.number, Status.RESOLVED, "h", done.version)

    def numbers(**kw):
        found, total = store.query(Query(**kw))
        assert total == len(found) or "limit" in kw
        return [t.number for t in found]
    assert numbers() == [done.number, late.number, soon.number]  # earliest deadline first
    assert numbers(region="龙游县") == [soon.number]
    assert numbers(sender_id="rest:u2") == [soon.number]
    assert numbers(status=("resolved",)) == [done.number]
    # both missed the first response (due 8 October) while assigned …
    assert numbers(overdue_on=date(2026, 10, 10)) == [late.number, soon.number]
    # … once accepted, only the resolution deadline counts
    store.transition(late.number, Status.IN_PROGRESS, "h", late.version)
    assert numbers(overdue_on=date(2026, 10, 10)) == [soon.number]
    assert numbers(overdue_on=date(2026, 11, 1)) == [late.number, soon.number]
    assert numbers(department="江山市金融工作服务中心", limit=1, offset=1) == [late.number]
    assert store.query(Query(limit=1))[1] == 3


def test_urging_twice_a_day_is_refused(store):
    t = assigned(store)
    assert store.urge(t.number, "rest:u1").kind == "urge"
    assert store.urge(t.number, "rest:u1") is None
    with pytest.raises(TicketNotFound):
        store.urge("QZ-20000101-0001", "rest:u1")


@pytest.mark.postgres
def test_replicas_starting_together_migrate_once():
    """Four processes' worth of migrators on one fresh PostgreSQL database."""
    errors = []
    with scratch_postgres() as url:
        def migrate_one():
            eng = create_engine(url, future=True)
            try:
                migrate.upgrade(eng)
            except Exception as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)
            finally:
                eng.dispose()
        threads = [threading.Thread(target=migrate_one) for _ in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        eng = create_engine(url, future=True)
        with eng.connect() as conn:
            head = sorted(p.name[:4] for p in (migrate.MIGRATIONS / "versions").glob("0*.py"))[-1]
            assert conn.execute(text("SELECT version_num FROM ticket_store_version")).all() == [
                (head,)]
        eng.dispose()


def test_a_failed_statement_is_logged_without_its_values(settings, tmp_path):
    """Issue 16: SQLAlchemy's error text would carry the statement's parameters (a mobile);
    the engines are built with ``hide_parameters``."""
    from sqlalchemy import insert
    from sqlalchemy.exc import SQLAlchemyError

    from bot.db.schema import kb_gaps
    from bot.tickets.factory import build_backend

    backend = build_backend(replace(settings, var=str(tmp_path), database_url=""))
    with pytest.raises(SQLAlchemyError) as failed, backend.engine.begin() as conn:
        conn.execute(insert(kb_gaps).values(question="手机13905701234", at=None))
    assert "13905701234" not in str(failed.value)
    assert "hidden due to hide_parameters" in str(failed.value)
