"""Common problems among the tickets and the policy-blockage reports made from them:
grouped across enterprises, reported one level up, escalated to the province, answered
back on every ticket — on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.db import migrate
from bot.proactive.blockage import common_problems, report
from bot.stats.proactive import proactive_figures
from bot.stats.queries import Filters
from bot.tickets.calendar import WorkCalendar
from bot.tickets.model import REPORT_CHANNEL, Enterprise, InvalidTicket, NewTicket, Status
from bot.tickets.routing import load_routing
from bot.tickets.service import TicketService
from bot.tickets.store import SqlTicketStore

POWER_CUTS = [
    ("龙游县恒达纸业有限公司", "城南工业园这几天下午老是停电，一停就是一两个小时，机器刚开又停"),
    ("龙游县金诚机械配件厂", "城南工业园又停电了！下午三点，一个礼拜第四次，机器全停"),
    ("浙江龙游鑫源特种纸有限公司", "我司在城南工业园，每天下午频繁停电，每次一两个小时，损失很大，"
                              "请协调供电公司。联系电话13905701234"),
]
OTHER = ("龙游县诚信塑业有限公司", "想给新厂房申请天然气开户，燃气公司说要先做管道设计，流程是什么")


def demand(name: str, text: str, region: str = "龙游县") -> NewTicket:
    return NewTicket(Enterprise(name, None, "王经理", "13905701234"), region, "project",
                     "utilities", text, sender_id=f"rest:{name}", conversation_id=name)


@pytest.fixture
def service(engine, settings):
    migrate.upgrade(engine)
    return TicketService(SqlTicketStore(engine), load_routing(settings.routing_file),
                         WorkCalendar.from_file(settings.holidays_file))


def test_a_common_problem_is_reported_up_and_its_answer_reaches_every_ticket(service):
    power = [service.open(demand(n, t), "test").ticket for n, t in POWER_CUTS]
    other = service.open(demand(*OTHER), "test").ticket
    groups = common_problems(service.store.engine, service, Filters.last_days(30))
    assert [sorted(g["members"]) for g in groups] == [sorted(t.number for t in power)]
    g = groups[0]
    assert (g["count"], g["enterprises"], g["regions"], g["report"]) == (3, 3, ["龙游县"], None)
    assert sum(w["count"] for w in g["trend"]) == 3 and len(g["samples"]) == 3
    assert all("13905701234" not in s["text"] for s in g["samples"])  # masked
    assert other.number not in g["members"]

    made, fresh = report(service, g["members"], "web:admin")
    assert fresh and made.channel == REPORT_CHANNEL
    assert (made.status, made.level) == (Status.ESCALATED, "city")
    assert all(t.number in made.text for t in power) and "13905701234" not in made.text
    assert service.store.related(made.number) == sorted(t.number for t in power)
    # each demand ticket says it is in the report; a second click makes nothing new
    assert all(any(e.kind == "in_report" for e in service.store.events(t.number))
               for t in power)
    again, fresh = report(service, list(reversed(g["members"])), "web:admin")
    assert (again.number, fresh) == (made.number, False)
    assert common_problems(service.store.engine, service,
                           Filters.last_days(30))[0]["report"]["number"] == made.number
    # the report itself is never grouped as a demand, and its tickets cannot be reported
    # again in another report
    with pytest.raises(InvalidTicket, match="already reported"):
        report(service, [power[0].number, other.number], "web:admin")

    # the city escalates it to the province, which answers
    up = service.escalate(made.number, "handler:市经信局", made.version, "需省级协调电网改造")
    assert (up.level, up.status) == ("province", Status.ESCALATED)
    taken = service.accept(made.number, "handler:省能源局", up.version)
    done = service.resolve(made.number, "handler:省能源局", taken.version,
                           "已安排城南片区线路改造，12月20日前完成")
    assert done.status is Status.RESOLVED
    for t in power:
        answers = [e for e in service.store.events(t.number) if e.kind == "report_answer"]
        assert [(a.data["report"], a.data["text"]) for a in answers] == [
            (made.number, "已安排城南片区线路改造，12月20日前完成")]
    assert not [e for e in service.store.events(other.number) if e.kind == "report_answer"]
    figures = proactive_figures(service.store.engine, Filters.last_days(30))
    assert (figures["reports"], figures["reports_province"], figures["reports_answered"]) \
        == (1, 1, 1)


def test_a_report_needs_two_enterprises_of_one_subtopic(service):
    a = service.open(demand(*POWER_CUTS[0]), "test").ticket
    b = service.open(demand(POWER_CUTS[0][0], "又停电了", ), "test")  # linked: same firm
    assert b.duplicate
    c = service.open(replace(demand(*POWER_CUTS[1]), domain="legal",
                             subtopic="contract_debt", text="货款被拖欠"), "test").ticket
    with pytest.raises(InvalidTicket, match="at least two"):
        report(service, [a.number], "web:admin")
    with pytest.raises(InvalidTicket, match="sub-topic"):
        report(service, [a.number, c.number], "web:admin")
    with pytest.raises(Exception, match="no ticket"):
        report(service, [a.number, "QZ-20990101-0001"], "web:admin")
    assert service.store.reports_of([a.number, c.number]) == {}  # nothing half-written
