from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import SQLAlchemyError

from bot.db import migrate
from bot.tickets.calendar import WorkCalendar
from bot.tickets.model import Enterprise, InvalidTicket, NewTicket, Status, replay
from bot.tickets.outbox import Outbox
from bot.tickets.routing import load_routing
from bot.tickets.service import TicketService
from bot.tickets.store import Query, SqlTicketStore

# a PostgreSQL URL where nothing listens: a database that is down
DEAD_DATABASE = "postgresql+psycopg2://127.0.0.1:1/none?connect_timeout=2"

ROUTING = Path(__file__).resolve().parent.parent / "config" / "routing.yml"
NEW = NewTicket(enterprise=Enterprise("龙游县恒丰纸业有限公司", "91110108551385082Q"),
                region="龙游", domain="finance", subtopic="bridge_loan",
                text="过桥资金到期银行不续贷", sender_id="rest:u1")


@pytest.fixture
def service(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 't.db'}", future=True)
    migrate.upgrade(engine)
    clock = lambda: datetime(2026, 9, 30, 10, 0, tzinfo=timezone.utc)  # noqa: E731
    return TicketService(SqlTicketStore(engine, clock), load_routing(ROUTING), WorkCalendar(),
                         clock)


def test_a_new_ticket_is_routed_with_working_day_deadlines(service):
    opened = service.open(NEW, "rest:u1")
    t = opened.ticket
    assert not opened.duplicate and t.status is Status.ASSIGNED
    assert t.department == "龙游县金融工作服务中心" and t.level == "county"
    # 30 Sep + 1 working day skips the National Day holiday (1–7 Oct)
    assert t.first_response_due == date(2026, 10, 8)
    # 5 working days: 8, 9, 10 (a Saturday worked for the holiday), 12, 13 October
    assert t.resolution_due == date(2026, 10, 13)
    assert t.number.startswith("QZ-20260930-")  # the store and the service share a clock
    events = service.store.events(t.number)
    assert [e.kind for e in events] == ["created", "transition"]
    assert events[1].data["department"] == t.department


def test_the_same_problem_again_is_linked_not_duplicated(service):
    first = service.open(NEW, "rest:u1").ticket
    again = service.open(replace(NEW, text="银行还是不给续贷，急"), "rest:u1")
    assert again.duplicate and again.ticket.number == first.number
    assert service.store.events(first.number)[-1].data["text"].endswith("银行还是不给续贷，急")


def test_another_subtopic_is_a_new_ticket(service):
    first = service.open(NEW, "rest:u1").ticket
    other = service.open(replace(NEW, domain="legal", subtopic="contract_debt"), "rest:u1")
    assert not other.duplicate and other.ticket.number != first.number


# -- idempotency, escalation, rating, urging, outbox --------------------------------------
def clocked(tmp_path, when: datetime) -> TicketService:
    engine = create_engine(f"sqlite:///{tmp_path / 't.db'}", future=True)
    migrate.upgrade(engine)
    clock = lambda: when  # noqa: E731
    return TicketService(SqlTicketStore(engine, clock), load_routing(ROUTING), WorkCalendar(),
                         clock)


def test_opening_twice_with_one_key_makes_one_ticket(service):
    first = service.open(NEW, "rest:u1", request_key="rest:u1:demand-1")
    again = service.open(NEW, "rest:u1", request_key="rest:u1:demand-1")
    assert again.repeated and again.ticket.number == first.ticket.number
    tickets, total = service.store.query(Query(sender_id="rest:u1"))
    assert total == 1
    assert [e.kind for e in service.store.events(first.ticket.number)] == ["created",
                                                                            "transition"]


def test_concurrent_requests_with_one_key_make_one_ticket(tmp_path):
    svc = clocked(tmp_path, datetime(2026, 9, 30, 2, 0, tzinfo=timezone.utc))
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: svc.open(NEW, "rest:u1", request_key="k-1"),
                                range(4)))
    assert len({r.ticket.number for r in results}) == 1
    assert svc.store.query(Query())[1] == 1


def test_a_subtopic_reserved_for_the_city_is_escalated_at_once(service):
    t = service.open(replace(NEW, domain="open", subtopic="customs_clearance",
                             text="出口报关查验太慢"), "rest:u1").ticket
    # the routing rule sends customs to 衢州海关 at city level already: no escalation
    assert t.status is Status.ASSIGNED and t.level == "city"
    t = service.open(replace(NEW, domain="data", subtopic="cross_border_data",
                             text="数据出境评估不知道找谁"), "rest:u1").ticket
    assert t.status is Status.ESCALATED and t.level == "province"
    assert t.department == "浙江省营商环境建设办公室"
    last = service.store.events(t.number)[-1]
    assert "authority list" in last.data["reason"] and last.actor == "system:router"


def test_overdue_tickets_are_escalated_once_per_deadline(tmp_path):
    opened_at = datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc)  # a Monday
    svc = clocked(tmp_path, opened_at)
    t = svc.open(NEW, "rest:u1").ticket  # finance: respond in 1, resolve in 5 working days
    assert svc.escalate_overdue() == []
    later = clocked(tmp_path, datetime(2026, 11, 5, 2, 0, tzinfo=timezone.utc))
    (up,) = later.escalate_overdue()  # first response was due on 3 November
    assert up.number == t.number and up.status is Status.ESCALATED and up.level == "city"
    assert up.department == "衢州市营商环境建设办公室"
    assert up.resolution_due > date(2026, 11, 5)
    reason = later.store.events(t.number)[-1].data["reason"]
    assert reason == "overdue: first response was due 2026-11-03"
    assert later.escalate_overdue() == []  # fresh deadlines: nothing more to do


def test_province_tickets_get_one_overdue_note(tmp_path):
    svc = clocked(tmp_path, datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc))
    t = svc.open(NEW, "rest:u1").ticket
    t = svc.escalate(t.number, "handler:x", t.version, "needs the province", to="province")
    later = clocked(tmp_path, datetime(2026, 12, 30, 2, 0, tzinfo=timezone.utc))
    assert later.escalate_overdue() == [] and later.escalate_overdue() == []
    notes = [e for e in later.store.events(t.number) if e.kind == "overdue"]
    assert len(notes) == 1 and later.store.get(t.number).level == "province"


def test_escalation_needs_a_reason_and_a_level_above(service):
    t = service.open(NEW, "rest:u1").ticket
    with pytest.raises(InvalidTicket):
        service.escalate(t.number, "handler:x", t.version, "  ")
    t = service.escalate(t.number, "handler:x", t.version, "beyond county", to="province")
    with pytest.raises(InvalidTicket, match="no level above"):
        service.escalate(t.number, "handler:x", t.version, "again")


def resolved(service):
    t = service.open(NEW, "rest:u1").ticket
    t = service.accept(t.number, "handler:x", t.version)
    return service.resolve(t.number, "handler:x", t.version, "已协调银行续贷")


def test_a_good_rating_is_kept(service):
    t = service.rate(resolved(service).number, "rest:u1", 5, "很及时")
    assert t.status is Status.RATED
    data = service.store.events(t.number)[-1].data
    assert data["rating"] == 5 and data["comment"] == "很及时"


def test_a_poor_rating_reopens_the_ticket(service):
    t = resolved(service)
    events = service.store.events(t.number)
    assert events[-1].kind == "reply" and events[-1].data["text"] == "已协调银行续贷"
    other = service.open(replace(NEW, enterprise=Enterprise("龙游县宏达机械有限公司"),
                                 sender_id="rest:u2"), "rest:u2").ticket
    good = service.accept(other.number, "handler:x", other.version)
    good = service.resolve(good.number, "handler:x", good.version, "已办理")
    good = service.rate(good.number, "rest:u2", 4)
    t = service.rate(t.number, "rest:u1", 2, "没解决")
    assert t.status is Status.REOPENED and t.resolution_due is not None
    assert [e.to_status for e in service.store.events(t.number)[-3:-1]] == [Status.RATED,
                                                                            Status.REOPENED]
    with pytest.raises(InvalidTicket):
        service.rate(t.number, "rest:u1", 6)
    # ... and opens the centre's review, until the centre records its conclusion
    [(waiting, review)] = service.store.pending_reviews()
    assert (waiting.number, review.data["rating"], review.data["text"]) == (t.number, 2, "没解决")
    with pytest.raises(InvalidTicket, match="conclusion"):
        service.conclude_review(t.number, "admin:centre", " ")
    with pytest.raises(InvalidTicket, match="no review waiting"):
        service.conclude_review(good.number, "admin:centre", "无需复核")
    service.conclude_review(t.number, "admin:centre", "部门未联系企业即办结，责令重新办理")
    assert service.store.pending_reviews() == []
    with pytest.raises(InvalidTicket, match="no review waiting"):
        service.conclude_review(t.number, "admin:centre", "再次复核")


def test_a_ticket_is_urged_at_most_once_a_day(tmp_path):
    # 23:30 UTC on 1 November is 07:30 on 2 November in China
    svc = clocked(tmp_path, datetime(2026, 11, 1, 23, 30, tzinfo=timezone.utc))
    t = svc.open(NEW, "rest:u1").ticket
    assert svc.urge(t.number, "rest:u1") is not None
    assert svc.urge(t.number, "rest:u1") is None
    same_day = clocked(tmp_path, datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc))  # 23:00
    assert same_day.urge(t.number, "rest:u1") is None
    next_day = clocked(tmp_path, datetime(2026, 11, 2, 16, 30, tzinfo=timezone.utc))
    assert next_day.urge(t.number, "rest:u1") is not None
    assert [e.kind for e in next_day.store.events(t.number)].count("urge") == 2


def test_staff_correct_the_subtopic_and_the_ticket_is_rerouted(service):
    t = service.open(NEW, "rest:u1").ticket
    t = service.return_for_rerouting(t.number, "handler:x", t.version, "不是金融问题")
    t = service.reassign(t.number, "admin:a", t.version, reason="实为合同纠纷",
                         domain="legal", subtopic="contract_debt")
    assert (t.status, t.domain, t.subtopic, t.department) == (
        Status.ASSIGNED, "legal", "contract_debt", "龙游县司法局")
    rebuilt = replay(service.store.events(t.number))
    assert (rebuilt.domain, rebuilt.subtopic, rebuilt.department) == (
        "legal", "contract_debt", "龙游县司法局")


def test_requests_wait_in_the_outbox_while_the_database_is_down(tmp_path):
    down = TicketService(SqlTicketStore.from_url(DEAD_DATABASE), load_routing(ROUTING),
                         WorkCalendar())
    outbox = Outbox(tmp_path / "outbox")
    with pytest.raises(SQLAlchemyError):
        down.open(NEW, "rest:u1", request_key="rest:u1:d1")
    outbox.put(NEW, "rest:u1", "rest:u1:d1")
    assert outbox.drain(down) == [] and len(outbox.pending()) == 1  # still down: kept
    up = clocked(tmp_path, datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc))
    (opened,) = outbox.drain(up)
    assert opened.ticket.status is Status.ASSIGNED and outbox.pending() == []
    outbox.put(NEW, "rest:u1", "rest:u1:d1")  # the same request again (e.g. a retry)
    assert outbox.drain(up) == [] and up.store.query(Query())[1] == 1


def test_a_request_that_can_never_be_registered_is_set_aside(tmp_path):
    outbox = Outbox(tmp_path / "outbox")
    outbox.put(replace(NEW, region="火星"), "rest:u1", "k")
    up = clocked(tmp_path, datetime(2026, 11, 2, 2, 0, tzinfo=timezone.utc))
    assert outbox.drain(up) == [] and outbox.pending() == []
    assert len(list((tmp_path / "outbox" / "failed").glob("*.json"))) == 1


def test_an_unrated_resolution_is_followed_up_once_after_three_working_days(tmp_path):
    svc = clocked(tmp_path, datetime(2026, 11, 5, 2, 0, tzinfo=timezone.utc))  # a Thursday
    quiet = resolved(svc)  # resolved on Thursday 5 November, never rated
    other = svc.open(replace(NEW, enterprise=Enterprise("龙游县另一家有限公司"),
                             sender_id="rest:u2"), "rest:u2").ticket
    other = svc.accept(other.number, "handler:x", other.version)
    other = svc.resolve(other.number, "handler:x", other.version, "已办")
    svc.rate(other.number, "rest:u2", 4)  # rated: no follow-up
    monday = clocked(tmp_path, datetime(2026, 11, 9, 2, 0, tzinfo=timezone.utc))
    assert monday.follow_up_unrated(3) == []  # Friday and Monday: two working days
    tuesday = clocked(tmp_path, datetime(2026, 11, 10, 2, 0, tzinfo=timezone.utc))
    (due,) = tuesday.follow_up_unrated(3)
    assert due.number == quiet.number
    assert [e.kind for e in tuesday.store.events(quiet.number)][-1] == "followup"
    assert tuesday.follow_up_unrated(3) == []  # once
