"""Tickets, their statuses and the transitions the closed loop allows.

受理 → 分派 → 办理 → 办结 → 回访评价: a ticket is *submitted*, *assigned* to a
department, taken *in_progress*, *resolved*, *rated* and *closed*. A department
can *return* it for rerouting or *escalate* it to the next level; a poor rating
*reopens* it. Every change is an event; the current state is the fold of the
events (``replay``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import Enum
from typing import Any

from bot.tickets import calendar


class Status(str, Enum):
    SUBMITTED = "submitted"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    RATED = "rated"
    CLOSED = "closed"
    ESCALATED = "escalated"
    RETURNED = "returned"  # returned for rerouting
    REOPENED = "reopened"


#: China Standard Time (no daylight saving): ticket dates, deadlines and "once a day"
CHINA = calendar.CHINA

#: statuses in which a department still owes the enterprise an answer
OPEN_STATUSES = ("submitted", "assigned", "in_progress", "returned", "escalated", "reopened")

#: statuses that count as the department's first response to a ticket
FIRST_RESPONSE = ("in_progress", "resolved", "escalated", "returned")


#: the channel of a policy-blockage report (堵点上报): a ticket made by the centre from a
#: common problem, linked to the demand tickets it reports on (bot/proactive/blockage.py)
REPORT_CHANNEL = "blockage"


#: how a status is named to enterprises and staff
STATUS_NAMES = {
    "submitted": "已提交", "assigned": "已分派，等待承办部门受理", "in_progress": "办理中",
    "resolved": "已办结，待您评价", "rated": "已评价", "closed": "已关闭",
    "escalated": "已提交上级部门协调办理", "returned": "重新分派中", "reopened": "重新办理中",
}


def china_date(at: datetime) -> date:
    return at.astimezone(CHINA).date()


S = Status
#: from-status → the statuses it may move to
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.SUBMITTED: frozenset({S.ASSIGNED, S.ESCALATED, S.CLOSED}),
    S.ASSIGNED: frozenset({S.IN_PROGRESS, S.RETURNED, S.ESCALATED}),
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.RETURNED, S.ESCALATED}),
    S.RETURNED: frozenset({S.ASSIGNED, S.ESCALATED}),
    S.ESCALATED: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.RETURNED, S.ESCALATED}),  # further up
    S.RESOLVED: frozenset({S.RATED, S.REOPENED, S.CLOSED}),
    S.RATED: frozenset({S.CLOSED, S.REOPENED}),
    S.REOPENED: frozenset({S.ASSIGNED, S.IN_PROGRESS, S.ESCALATED}),
    S.CLOSED: frozenset(),
}


class TicketError(Exception):
    """Base of the ticket errors; ``message`` is readable English for logs and APIs."""


class IllegalTransition(TicketError):
    def __init__(self, number: str, current: Status, wanted: Status) -> None:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none"
        super().__init__(f"ticket {number} is {current.value}; it cannot become "
                         f"{wanted.value} (allowed: {allowed})")
        self.number, self.current, self.wanted = number, current, wanted


class ConcurrentUpdate(TicketError):
    def __init__(self, number: str, expected: int, actual: int) -> None:
        super().__init__(f"ticket {number} was changed by someone else (version {actual}, "
                         f"expected {expected}); reload it and try again")
        self.number, self.expected, self.actual = number, expected, actual


class TicketNotFound(TicketError):
    def __init__(self, number: str) -> None:
        super().__init__(f"no ticket {number}")
        self.number = number


class InvalidTicket(TicketError):
    """A field of a new ticket is missing or malformed; the message names it."""


@dataclass(frozen=True)
class Enterprise:
    name: str
    credit_code: str | None = None
    contact: str | None = None
    mobile: str | None = None


@dataclass(frozen=True)
class NewTicket:
    """What is known when a demand becomes a ticket."""

    enterprise: Enterprise
    region: str  # canonical region name, e.g. 龙游县
    domain: str
    subtopic: str
    text: str  # the user's own words
    channel: str = "rest"
    sender_id: str | None = None  # channel-namespaced identity, e.g. rest:4f2a…
    conversation_id: str | None = None  # the Rasa conversation, for notifications
    department: str | None = None
    level: str = "county"  # county | city | province
    #: the demand tickets this one reports on: a policy-blockage report (堵点上报) made
    #: from a common problem (bot/proactive/blockage.py); each is reported at most once
    related: tuple[str, ...] = ()


@dataclass(frozen=True)
class Event:
    number: str
    seq: int  # 1, 2, 3 … per ticket
    at: datetime
    actor: str
    kind: str  # created | transition | note | urge | handoff | notification
    from_status: Status | None
    to_status: Status | None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Ticket:
    number: str
    status: Status
    version: int
    enterprise: Enterprise
    region: str
    domain: str
    subtopic: str
    text: str
    channel: str
    sender_id: str | None
    department: str | None
    level: str
    created_at: datetime
    updated_at: datetime
    first_response_due: date | None = None
    resolution_due: date | None = None
    conversation_id: str | None = None

    @property
    def is_open(self) -> bool:
        return self.status.value in OPEN_STATUSES


#: fields a transition may change besides the status
TRANSITION_FIELDS = ("department", "level", "domain", "subtopic",
                     "first_response_due", "resolution_due")
DUE_FIELDS = ("first_response_due", "resolution_due")


def check_transition(number: str, current: Status, wanted: Status) -> None:
    if wanted not in TRANSITIONS[current]:
        raise IllegalTransition(number, current, wanted)


def replay(events: list[Event]) -> Ticket:
    """Rebuild a ticket's state from its event log alone."""
    if not events or events[0].kind != "created":
        raise TicketError("an event log starts with a 'created' event")
    d = events[0].data
    ticket = Ticket(
        number=events[0].number, status=Status.SUBMITTED, version=1,
        enterprise=Enterprise(**d["enterprise"]), region=d["region"], domain=d["domain"],
        subtopic=d["subtopic"], text=d["text"], channel=d["channel"],
        sender_id=d.get("sender_id"), department=d.get("department"), level=d["level"],
        created_at=events[0].at, updated_at=events[0].at,
        conversation_id=d.get("conversation_id"))
    for e in events[1:]:
        if e.kind == "transition" and e.to_status is not None:
            check_transition(ticket.number, ticket.status, e.to_status)
            due = {k: date.fromisoformat(e.data[k]) for k in DUE_FIELDS if e.data.get(k)}
            kept = {k: e.data[k] for k in ("department", "level", "domain", "subtopic")
                    if k in e.data}
            ticket = replace(ticket, status=e.to_status, version=ticket.version + 1,
                             updated_at=e.at, **kept, **due)
    return ticket
