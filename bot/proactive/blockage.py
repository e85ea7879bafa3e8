"""Common problems (共性问题) found among the tickets, and the policy-blockage reports
(堵点上报) made from them.

The dashboard lists the groups of demand tickets from different enterprises that report
the same concrete problem (``bot.proactive.commons``: same sub-topic, same city, close
in time, similar text) with their counts, enterprises, weekly trend and sample texts. One
click turns a group into a report: a ticket of channel ``blockage`` that quotes the
evidence, is linked to the demand tickets it reports on (each at most once), is routed
like any ticket for its sub-topic and then escalated one level up (county → city; the
city can escalate it to the province). It is handled, audited and overdue-watched like a
ticket; when it is resolved, the answer is written on every linked ticket and each
enterprise is told in its own conversation (``TicketService.resolve``,
``RasaNotifier.ticket_changed``).
"""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.db.schema import tickets
from bot.db.times import as_utc
from bot.masking import mask_text
from bot.proactive.commons import Demand, city_of, group
from bot.stats.labels import LEVEL_NAMES
from bot.stats.queries import Filters
from bot.taxonomy import taxonomy
from bot.tickets.model import (
    CHINA,
    REPORT_CHANNEL,
    STATUS_NAMES,
    Enterprise,
    InvalidTicket,
    NewTicket,
    Ticket,
)
from bot.tickets.service import TicketService

#: grouping looks at most this many days back from the period's end, and at most
#: ``MAX_DEMANDS`` of the newest tickets: the dashboard answers in about a second
LOOK_BACK_DAYS = 90
MAX_DEMANDS = 20_000
SAMPLES = 3
MAX_SHOWN = 100  # demands of one group listed for checking
TWO_ENTERPRISES = "共性问题至少包括两家企业的诉求，请至少勾选两家企业。"
REPORTER = "system:commons"


class ReportRefused(InvalidTicket):
    """A report that cannot be made from these tickets; ``chinese`` says why to staff."""

    def __init__(self, detail: str, chinese: str) -> None:
        super().__init__(detail)
        self.chinese = chinese


@dataclass(frozen=True)
class Member:
    number: str
    day: date  # China date the ticket was opened
    region: str
    enterprise: str  # who: the credit code, else the name
    name: str
    text: str


def _key(numbers: list[str]) -> str:
    return hashlib.sha256(",".join(sorted(numbers)).encode()).hexdigest()[:16]


def demand_tickets(engine: Engine, f: Filters) -> list[tuple[Member, str, str]]:
    """The period's demand tickets (not reports), newest ``MAX_DEMANDS``, each with its
    sub-topic and domain; the region filter applies to groups, not here (a group spans a
    city)."""
    since = max(f.since, f.until - timedelta(days=LOOK_BACK_DAYS))
    where = [tickets.c.created_at >= since, tickets.c.created_at < f.until,
             tickets.c.channel != REPORT_CHANNEL]
    if f.domain:
        where.append(tickets.c.domain == f.domain)
    query = (select(tickets.c.number, tickets.c.created_at, tickets.c.region,
                    tickets.c.enterprise_name, tickets.c.credit_code, tickets.c.text,
                    tickets.c.subtopic, tickets.c.domain)
             .where(*where).order_by(tickets.c.created_at.desc()).limit(MAX_DEMANDS))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    out = []
    for r in reversed(rows):
        member = Member(r.number, as_utc(r.created_at).astimezone(CHINA).date(), r.region,
                        (r.credit_code or r.enterprise_name or "").strip(), r.enterprise_name,
                        r.text)
        out.append((member, r.subtopic, r.domain))
    return out


def common_problems(engine: Engine, service: TicketService, f: Filters,
                    limit: int = 50) -> list[dict[str, Any]]:
    """The period's common problems, largest first, as the dashboard and the API show
    them; a group touching ``f.region`` when a region is chosen."""
    found = demand_tickets(engine, f)
    if not found:
        return []
    origin = found[0][0].day
    members = {m.number: (m, subtopic, domain) for m, subtopic, domain in found}
    demands = [Demand(m.number, m.text, subtopic, m.region, (m.day - origin).days,
                      m.enterprise) for m, subtopic, _ in found]
    groups = [g for g in group(demands)
              if not f.region or any(d.region == f.region for d in g.demands)]
    numbers = [d.id for g in groups[:limit] for d in g.demands]
    reported = service.store.reports_of(numbers)
    out = []
    for g in groups[:limit]:
        ids = [d.id for d in g.demands]
        rows = [members[i][0] for i in ids]
        subtopic, domain = members[ids[0]][1], members[ids[0]][2]
        report = next((reported[i] for i in ids if i in reported), None)
        out.append({
            "key": _key(ids), "subtopic": subtopic, "domain": domain,
            "label": taxonomy().label(domain, subtopic),
            "city": city_of(rows[0].region), "regions": sorted({m.region for m in rows}),
            "count": len(rows), "enterprises": len(g.enterprises),
            "enterprise_names": sorted({m.name for m in rows}),
            "first": min(m.day for m in rows).isoformat(),
            "last": max(m.day for m in rows).isoformat(),
            "trend": _weekly(rows), "members": ids,
            "samples": [_view(m) for m in _samples(rows)],
            # every demand, for staff to untick the ones that are not this problem: the
            # grouping is a proposal (measured precision: reports/commons_eval.md)
            "demands": [_view(m) for m in sorted(rows, key=lambda m: m.day)[:MAX_SHOWN]],
            "report": _report_view(service, report) if report else None})
    return out


def common_problem_rows(engine: Engine, service: TicketService,
                        f: Filters) -> list[dict[str, Any]]:
    """The period's common problems as export rows (one sample text each, masked)."""
    return [{"label": g["label"], "regions": "、".join(g["regions"]), "count": g["count"],
             "enterprises": g["enterprises"], "first": g["first"], "last": g["last"],
             "report": g["report"]["number"] if g["report"] else "",
             "report_status": g["report"]["status_name"] if g["report"] else "未上报",
             "sample": g["samples"][0]["text"]}
            for g in common_problems(engine, service, f, limit=500)]


def _view(m: Member) -> dict[str, Any]:
    return {"number": m.number, "day": m.day.isoformat(), "region": m.region,
            "enterprise": m.name, "text": mask_text(m.text[:200])}


def _weekly(rows: list[Member]) -> list[dict[str, Any]]:
    weeks = Counter((m.day - timedelta(days=m.day.weekday())).isoformat() for m in rows)
    return [{"week": w, "count": n} for w, n in sorted(weeks.items())]


def _samples(rows: list[Member]) -> list[Member]:
    """The latest demand, the first, and the longest of the rest: different angles."""
    ordered = sorted(rows, key=lambda m: m.day)
    chosen = [ordered[-1], ordered[0]]
    rest = sorted(ordered[1:-1], key=lambda m: -len(m.text))
    return list(dict.fromkeys(chosen + rest))[:SAMPLES]


def _report_view(service: TicketService, number: str) -> dict[str, Any]:
    t = service.store.get(number)
    return {"number": t.number, "status": t.status.value, "department": t.department,
            "level": t.level, "status_name": STATUS_NAMES[t.status.value],
            "level_name": LEVEL_NAMES.get(t.level, t.level)}


def report(service: TicketService, numbers: list[str], actor: str) -> tuple[Ticket, bool]:
    """Turn the demand tickets ``numbers`` (a common problem) into a policy-blockage report
    escalated one level above where they would be handled. Returns the report and whether
    it was made now (False: these tickets were already reported together)."""
    numbers = sorted(set(numbers))
    if len(numbers) < 2:
        raise ReportRefused("a common problem has at least two demand tickets",
                            TWO_ENTERPRISES)
    store = service.store
    members = [store.get(n) for n in numbers]
    if len({t.subtopic for t in members}) != 1:
        raise ReportRefused("the tickets of one report share their sub-topic",
                            "一份上报只能包括同一类别的诉求。")
    if any(t.channel == REPORT_CHANNEL for t in members):
        raise ReportRefused("a report cannot report on another report",
                            "上报工单不能再次上报。")
    enterprises = {t.enterprise.credit_code or t.enterprise.name for t in members}
    if len(enterprises) < 2:
        raise ReportRefused("a common problem comes from at least two enterprises",
                            TWO_ENTERPRISES)
    if taken := store.reports_of(numbers):
        number, report_number = next(iter(sorted(taken.items())))
        if set(taken) != set(numbers) or len(set(taken.values())) != 1:
            raise ReportRefused(
                f"ticket {number} is already reported in {report_number}",
                f"工单 {number} 已在堵点上报 {report_number} 中，请取消勾选后再上报。")
    first = members[0]
    region = Counter(t.region for t in members).most_common(1)[0][0]
    try:
        opened = service.open(NewTicket(
            Enterprise(f"共性问题（{len(enterprises)}家企业）"), region, first.domain,
            first.subtopic, evidence(members), channel=REPORT_CHANNEL,
            related=tuple(numbers)), actor, request_key=f"blockage:{_key(numbers)}")
    except IntegrityError:  # another report took some of these tickets at this moment
        raise ReportRefused("some of these tickets were reported at the same moment",
                            "其中有诉求刚被他人上报，请刷新页面后重试。") from None
    ticket = opened.ticket
    if ticket.level == "county" and ticket.is_open:  # one level above the county
        ticket = service.escalate(
            ticket.number, actor, ticket.version,
            f"共性问题上报：{len(enterprises)}家企业反映同一问题，超出县级协调能力")
    for t in members:  # each demand ticket says it is in the report (once, also on a retry)
        if not any(e.kind == "in_report" and e.data.get("report") == ticket.number
                   for e in store.events(t.number)):
            store.add_note(t.number, actor, f"已纳入共性问题上报（{ticket.number}），"
                           f"由{ticket.department}协调", kind="in_report",
                           report=ticket.number)
    return ticket, not opened.repeated


def evidence(members: list[Ticket]) -> str:
    """The report's text: what the enterprises said, when and where (numbers masked)."""
    days = sorted(t.created_at.astimezone(CHINA).date() for t in members)
    names = {t.enterprise.credit_code or t.enterprise.name for t in members}
    lines = [f"【共性问题上报】{len(names)}家企业于{days[0]}至{days[-1]}反映同一问题"
             f"（{taxonomy().label(members[0].domain, members[0].subtopic)}），涉及"
             f"{'、'.join(sorted({t.region for t in members}))}："]
    for n, t in enumerate(sorted(members, key=lambda t: t.created_at), 1):
        when = t.created_at.astimezone(CHINA).date()
        lines.append(f"{n}. {when} {t.region} {t.enterprise.name}（工单 {t.number}）："
                     f"{mask_text(t.text[:300])}")
    lines.append("请协调解决；答复后系统将告知上述企业。")
    return "\n".join(lines)
