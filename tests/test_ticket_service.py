from dataclasses import replace
from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from bot.tickets import migrate
from bot.tickets.calendar import WorkCalendar
from bot.tickets.model import Enterprise, NewTicket, Status
from bot.tickets.routing import load_routing
from bot.tickets.service import TicketService
from bot.tickets.store import SqlTicketStore

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
