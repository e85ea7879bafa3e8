"""The ticket store: one interface, one SQLAlchemy implementation (SQLite, PostgreSQL).

Every write runs in one transaction that changes the ticket row *and* appends
its event, so there is no update without an event and no half-written ticket.
Concurrent writers are detected with a version column (optimistic locking): the
second writer gets ``ConcurrentUpdate`` and nothing changes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timezone
from typing import Any, Protocol

from sqlalchemy import and_, case, func, insert, or_, select, update
from sqlalchemy.engine import Connection, Engine, Row, create_engine
from sqlalchemy.exc import IntegrityError

from bot.creditcode import is_valid_credit_code
from bot.db.schema import (
    ticket_events,
    ticket_links,
    ticket_requests,
    ticket_sequences,
    tickets,
)
from bot.db.times import as_utc
from bot.entities import is_mobile
from bot.regions import region_table
from bot.taxonomy import taxonomy
from bot.tickets.model import (
    CHINA,
    FIRST_RESPONSE,
    OPEN_STATUSES,
    TRANSITION_FIELDS,
    ConcurrentUpdate,
    Enterprise,
    Event,
    InvalidTicket,
    NewTicket,
    Status,
    Ticket,
    TicketNotFound,
    check_transition,
    china_date,
)


@dataclass(frozen=True)
class Assignment:
    """Where a new ticket goes, written in the transaction that creates it."""

    department: str
    level: str
    reason: str
    first_response_due: date
    resolution_due: date
    actor: str = "system:router"


@dataclass(frozen=True)
class Note:
    """An event that changes no status, written in the transaction of a transition (e.g.
    the reply of a resolution, the answer of a report on each ticket it reports on)."""

    number: str
    kind: str
    text: str
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    actor: str | None = None  # default: the transition's


@dataclass(frozen=True)
class Query:
    """A filter of the ticket queue; ``None`` means "any"."""

    department: str | None = None
    status: tuple[str, ...] | None = None
    region: str | None = None
    domain: str | None = None
    subtopic: str | None = None
    sender_id: str | None = None
    overdue_on: date | None = None  # open tickets whose resolution is due before this day
    limit: int = 50
    offset: int = 0


class TicketStore(Protocol):
    def create(self, new: NewTicket, actor: str, request_key: str | None = None,
               assignment: Assignment | None = None) -> Ticket: ...
    def get(self, number: str) -> Ticket: ...
    def transition(self, number: str, to: Status, actor: str, expected_version: int,
                   reason: str = "", data: dict[str, Any] | None = None,
                   also: tuple[Note, ...] = (), **changes: Any) -> Ticket: ...
    def add_note(self, number: str, actor: str, text: str, kind: str = "note",
                 request_key: str | None = None, **data: Any) -> Event: ...
    def urge(self, number: str, actor: str) -> Event | None: ...
    def events(self, number: str) -> list[Event]: ...
    def find_open(self, subtopic: str, since: datetime, credit_code: str | None = None,
                  sender_id: str | None = None) -> list[Ticket]: ...
    def by_request(self, key: str) -> tuple[Ticket, bool] | None: ...
    def query(self, q: Query) -> tuple[list[Ticket], int]: ...
    def resolved_unrated(self, before: datetime) -> list[tuple[Ticket, datetime]]: ...
    def related(self, number: str) -> list[str]: ...
    def pending_reviews(self, limit: int = 200) -> list[tuple[Ticket, Event]]: ...
    def reports_of(self, numbers: list[str]) -> dict[str, str]: ...


def validate_new_ticket(new: NewTicket) -> None:
    """Reject a ticket that a department could not act on; the message names the field."""
    tax = taxonomy()
    e = new.enterprise
    if not e.name or not e.name.strip():
        raise InvalidTicket("enterprise name is required")
    if e.credit_code and not is_valid_credit_code(e.credit_code):
        raise InvalidTicket(f"unified social credit code {e.credit_code!r} fails the "
                            "GB 32100-2015 check")
    if e.mobile and not is_mobile(e.mobile):
        raise InvalidTicket("mobile must be an 11-digit number starting with 1")
    if region_table().get(new.region) is None:
        raise InvalidTicket(f"unknown region {new.region!r}")
    if new.subtopic not in tax.subtopics or tax.domain_of(new.subtopic) != new.domain:
        raise InvalidTicket(f"sub-topic {new.subtopic!r} is not in domain {new.domain!r}")
    if not new.text.strip():
        raise InvalidTicket("the user's own words are required")
    if new.level not in ("county", "city", "province"):
        raise InvalidTicket(f"level must be county, city or province, not {new.level!r}")


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _ticket(row: Row) -> Ticket:
    return Ticket(
        number=row.number, status=Status(row.status), version=row.version,
        enterprise=Enterprise(row.enterprise_name, row.credit_code, row.contact, row.mobile),
        region=row.region, domain=row.domain, subtopic=row.subtopic, text=row.text,
        channel=row.channel, sender_id=row.sender_id, department=row.department,
        level=row.level, created_at=as_utc(row.created_at),
        updated_at=as_utc(row.updated_at), first_response_due=row.first_response_due,
        resolution_due=row.resolution_due, conversation_id=row.conversation_id)


def _event(row: Row) -> Event:
    return Event(number=row.number, seq=row.seq, at=as_utc(row.at), actor=row.actor,
                 kind=row.kind,
                 from_status=Status(row.from_status) if row.from_status else None,
                 to_status=Status(row.to_status) if row.to_status else None,
                 data=dict(row.data or {}))


class SqlTicketStore:
    """``TicketStore`` on any SQLAlchemy engine (SQLite file by default, PostgreSQL by URL)."""

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = _now) -> None:
        self.engine = engine
        self.clock = clock

    @classmethod
    def from_url(cls, url: str) -> SqlTicketStore:
        return cls(create_engine(url, future=True, pool_pre_ping=True, hide_parameters=True))

    # -- reading ---------------------------------------------------------------
    def get(self, number: str) -> Ticket:
        with self.engine.connect() as conn:
            row = conn.execute(select(tickets).where(tickets.c.number == number)).first()
        if row is None:
            raise TicketNotFound(number)
        return _ticket(row)

    def events(self, number: str) -> list[Event]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(ticket_events).where(ticket_events.c.number == number)
                                .order_by(ticket_events.c.seq)).all()
        if not rows:
            raise TicketNotFound(number)
        return [_event(r) for r in rows]

    def find_open(self, subtopic: str, since: datetime, credit_code: str | None = None,
                  sender_id: str | None = None) -> list[Ticket]:
        """Unfinished tickets on ``subtopic`` since ``since`` from the same enterprise
        (by credit code when known, else by the sender), newest first."""
        if credit_code:
            who = tickets.c.credit_code == credit_code
        elif sender_id:
            who = tickets.c.sender_id == sender_id
        else:
            return []
        query = (select(tickets).where(who, tickets.c.subtopic == subtopic,
                                       tickets.c.created_at >= since,
                                       tickets.c.status.in_(OPEN_STATUSES + ("resolved",)))
                 .order_by(tickets.c.created_at.desc()))
        with self.engine.connect() as conn:
            return [_ticket(r) for r in conn.execute(query).all()]

    def by_request(self, key: str) -> tuple[Ticket, bool] | None:
        """The ticket an earlier request with this idempotency key created or was linked
        to, and whether it was linked as a duplicate."""
        with self.engine.connect() as conn:
            row = conn.execute(select(ticket_requests)
                               .where(ticket_requests.c.key == key)).first()
        return (self.get(row.number), bool(row.duplicate)) if row else None

    def query(self, q: Query) -> tuple[list[Ticket], int]:
        """One page of the queue, oldest deadline first, and the total count."""
        where = []
        for column, value in (("department", q.department), ("region", q.region),
                              ("domain", q.domain), ("subtopic", q.subtopic),
                              ("sender_id", q.sender_id)):
            if value is not None:
                where.append(tickets.c[column] == value)
        if q.status:
            where.append(tickets.c.status.in_(q.status))
        if q.overdue_on is not None:
            where.append(tickets.c.status.in_(OPEN_STATUSES))
            where.append(or_(tickets.c.resolution_due < q.overdue_on,
                             and_(tickets.c.status == Status.ASSIGNED.value,
                                  tickets.c.first_response_due < q.overdue_on)))
        page = (select(tickets).where(*where)
                .order_by(tickets.c.resolution_due.is_(None), tickets.c.resolution_due,
                          tickets.c.created_at.desc())
                .limit(q.limit).offset(q.offset))
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(tickets)
                                 .where(*where)).scalar_one()
            return [_ticket(r) for r in conn.execute(page).all()], total

    def resolved_unrated(self, before: datetime) -> list[tuple[Ticket, datetime]]:
        """Tickets still waiting for the enterprise's rating, resolved before ``before``
        and not yet followed up (回访), with when they were resolved."""
        followed = select(ticket_events.c.number).where(ticket_events.c.kind == "followup")
        query = (select(tickets).where(tickets.c.status == Status.RESOLVED.value,
                                       tickets.c.resolved_at < before,
                                       tickets.c.number.not_in(followed))
                 .order_by(tickets.c.resolved_at).limit(1000))
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [(_ticket(r), as_utc(r.resolved_at)) for r in rows]

    def pending_reviews(self, limit: int = 200) -> list[tuple[Ticket, Event]]:
        """Tickets whose low rating opened a review (event ``review``) the centre has not
        concluded (``reviewed``), oldest first, each with its latest review event."""
        e = ticket_events.c
        opened = func.sum(case((e.kind == "review", 1), else_=0))
        waiting = (select(e.number).where(e.kind.in_(("review", "reviewed")))
                   .group_by(e.number)
                   .having(opened > func.sum(case((e.kind == "reviewed", 1), else_=0))))
        query = (select(ticket_events).where(e.kind == "review", e.number.in_(waiting))
                 .order_by(e.at))
        with self.engine.connect() as conn:
            latest = {r.number: _event(r) for r in conn.execute(query).all()}
        numbers = list(latest)[:limit]
        return [(self.get(n), latest[n]) for n in numbers]

    def related(self, number: str) -> list[str]:
        """The demand tickets a report (e.g. a policy-blockage report) is about."""
        with self.engine.connect() as conn:
            return list(conn.execute(select(ticket_links.c.related)
                                     .where(ticket_links.c.number == number)
                                     .order_by(ticket_links.c.related)).scalars())

    def reports_of(self, numbers: list[str]) -> dict[str, str]:
        """For each of ``numbers`` already reported on: the report's number."""
        if not numbers:
            return {}
        with self.engine.connect() as conn:
            rows = conn.execute(select(ticket_links)
                                .where(ticket_links.c.related.in_(numbers))).all()
        return {r.related: r.number for r in rows}

    # -- writing ---------------------------------------------------------------
    def create(self, new: NewTicket, actor: str, request_key: str | None = None,
               assignment: Assignment | None = None) -> Ticket:
        """Insert a ticket and its 'created' event (and, with ``assignment``, its routing
        to a department) in one transaction. A ``request_key`` used before raises
        ``IntegrityError`` and creates nothing."""
        validate_new_ticket(new)
        region = region_table().get(new.region)
        prefix = region.code or "ZJ"
        now = self.clock()
        day = f"{now.astimezone(CHINA):%Y%m%d}"
        with self.engine.begin() as conn:
            self._check_related(conn, new.related)
            number = f"{prefix}-{day}-{self._next_seq(conn, prefix, day):04d}"
            e = new.enterprise
            conn.execute(insert(tickets).values(
                number=number, status=Status.SUBMITTED.value, version=1,
                enterprise_name=e.name.strip(), credit_code=e.credit_code, contact=e.contact,
                mobile=e.mobile, region=region.name, domain=new.domain,
                subtopic=new.subtopic, text=new.text, channel=new.channel,
                sender_id=new.sender_id, conversation_id=new.conversation_id,
                department=new.department, level=new.level, created_at=now, updated_at=now))
            data = dataclasses.asdict(new)
            data["region"] = region.name
            self._append(conn, number, 1, now, actor, "created", None, Status.SUBMITTED, data)
            if new.related:
                conn.execute(insert(ticket_links), [{"related": r, "number": number, "at": now}
                                                    for r in new.related])
            if assignment is not None:
                a = assignment
                conn.execute(update(tickets).where(tickets.c.number == number).values(
                    status=Status.ASSIGNED.value, version=2, department=a.department,
                    level=a.level, first_response_due=a.first_response_due,
                    resolution_due=a.resolution_due))
                self._append(conn, number, 2, now, a.actor, "transition", Status.SUBMITTED,
                             Status.ASSIGNED, {
                                 "reason": a.reason, "department": a.department,
                                 "level": a.level,
                                 "first_response_due": a.first_response_due.isoformat(),
                                 "resolution_due": a.resolution_due.isoformat()})
            self._remember(conn, request_key, number, False, now)
        return self.get(number)

    def transition(self, number: str, to: Status, actor: str, expected_version: int,
                   reason: str = "", data: dict[str, Any] | None = None,
                   also: tuple[Note, ...] = (), **changes: Any) -> Ticket:
        """Move a ticket to ``to`` (e.g. assign with ``department=…, level=…`` and the
        ``first_response_due`` / ``resolution_due`` dates); ``data`` goes into the event
        only (e.g. a rating); the notes ``also`` are written in the same transaction."""
        allowed = set(TRANSITION_FIELDS)
        if set(changes) - allowed:
            raise TypeError(f"only {sorted(allowed)} can change with a transition")
        now = self.clock()
        with self.engine.begin() as conn:
            row = conn.execute(select(tickets.c.status, tickets.c.version)
                               .where(tickets.c.number == number)
                               .with_for_update()).first()  # PostgreSQL: a row lock
            if row is None:
                raise TicketNotFound(number)
            current = Status(row.status)
            if row.version != expected_version:
                raise ConcurrentUpdate(number, expected_version, row.version)
            check_transition(number, current, to)
            result = conn.execute(
                update(tickets)
                .where(tickets.c.number == number, tickets.c.version == expected_version)
                .values(status=to.value, version=expected_version + 1, updated_at=now,
                        **changes))
            if result.rowcount != 1:  # another writer committed in between
                actual = conn.execute(select(tickets.c.version)
                                      .where(tickets.c.number == number)).scalar_one()
                raise ConcurrentUpdate(number, expected_version, actual)
            logged = {k: v.isoformat() if isinstance(v, date) else v for k, v in changes.items()}
            self._append(conn, number, None, now, actor, "transition", current, to,
                         {"reason": reason, **(data or {}), **logged})
            for other in sorted({n.number for n in also} - {number}):
                self._lock(conn, other)  # in one order: no deadlock between two writers
            for n in also:
                self._append(conn, n.number, None, now, n.actor or actor, n.kind, None, None,
                             {"text": n.text, **n.data})
        return self.get(number)

    def add_note(self, number: str, actor: str, text: str, kind: str = "note",
                 request_key: str | None = None, **data: Any) -> Event:
        """Append an event that changes no status: a note, a hand-off, a notification…"""
        now = self.clock()
        with self.engine.begin() as conn:
            self._lock(conn, number)
            event = self._append(conn, number, None, now, actor, kind, None, None,
                                 {"text": text, **data})
            self._remember(conn, request_key, number, True, now)
            return event

    def urge(self, number: str, actor: str) -> Event | None:
        """Record a 催办; ``None`` when the ticket was already urged today (China time)."""
        now = self.clock()
        # stored times are UTC (SQLite keeps no zone): compare with China's midnight in UTC
        midnight = datetime.combine(china_date(now), time(), CHINA).astimezone(timezone.utc)
        with self.engine.begin() as conn:
            self._lock(conn, number)
            earlier = conn.execute(select(ticket_events.c.id).where(
                ticket_events.c.number == number, ticket_events.c.kind == "urge",
                ticket_events.c.at >= midnight)).first()
            if earlier is not None:
                return None
            return self._append(conn, number, None, now, actor, "urge", None, None, {})

    # -- helpers ---------------------------------------------------------------
    @staticmethod
    def _check_related(conn: Connection, related: tuple[str, ...]) -> None:
        if not related:
            return
        found = set(conn.execute(select(tickets.c.number)
                                 .where(tickets.c.number.in_(related))).scalars())
        if missing := sorted(set(related) - found):
            raise InvalidTicket(f"no ticket {', '.join(missing)} to report on")
        taken = conn.execute(select(ticket_links)
                             .where(ticket_links.c.related.in_(related))).first()
        if taken is not None:
            raise InvalidTicket(f"ticket {taken.related} is already reported in "
                                f"{taken.number}")

    @staticmethod
    def _lock(conn: Connection, number: str) -> None:
        """Row-lock the ticket (PostgreSQL) so its events are appended one at a time."""
        if conn.execute(select(tickets.c.number).where(tickets.c.number == number)
                        .with_for_update()).first() is None:
            raise TicketNotFound(number)

    @staticmethod
    def _remember(conn: Connection, key: str | None, number: str, duplicate: bool,
                  at: datetime) -> None:
        """Store the idempotency key in the same transaction; a key seen before raises
        ``IntegrityError``, which rolls the whole write back."""
        if key:
            conn.execute(insert(ticket_requests).values(key=key, number=number,
                                                        duplicate=duplicate, at=at))
    @staticmethod
    def _next_seq(conn: Connection, prefix: str, day: str) -> int:
        """Next number for (prefix, day): the UPDATE takes a row lock until commit."""
        key = (ticket_sequences.c.prefix == prefix) & (ticket_sequences.c.day == day)
        if conn.execute(update(ticket_sequences).where(key)
                        .values(last=ticket_sequences.c.last + 1)).rowcount == 0:
            try:
                with conn.begin_nested():
                    conn.execute(insert(ticket_sequences).values(prefix=prefix, day=day,
                                                                 last=1))
            except IntegrityError:  # another writer created the row first
                conn.execute(update(ticket_sequences).where(key)
                             .values(last=ticket_sequences.c.last + 1))
        return conn.execute(select(ticket_sequences.c.last).where(key)).scalar_one()

    @staticmethod
    def _append(conn: Connection, number: str, seq: int | None, at: datetime, actor: str,
                kind: str, from_status: Status | None, to_status: Status | None,
                data: dict[str, Any]) -> Event:
        if seq is None:
            seq = conn.execute(select(func.coalesce(func.max(ticket_events.c.seq), 0))
                               .where(ticket_events.c.number == number)).scalar_one() + 1
        conn.execute(insert(ticket_events).values(
            number=number, seq=seq, at=at, actor=actor, kind=kind,
            from_status=from_status.value if from_status else None,
            to_status=to_status.value if to_status else None, data=data))
        if kind == "transition" and to_status is not None:
            facts = closed_loop_facts(to_status, at, data)
            if facts:
                conn.execute(update(tickets).where(tickets.c.number == number).values(**facts))
        return Event(number, seq, at, actor, kind, from_status, to_status, data)


def closed_loop_facts(to: Status, at: datetime, data: dict[str, Any]) -> dict[str, Any]:
    """What a transition changes in the ticket's closed-loop facts (the statistics read
    these instead of grouping the events): the first response and the first resolution
    keep their earliest time, escalation and reopening are remembered, the latest rating
    counts."""
    facts: dict[str, Any] = {}
    if to.value in FIRST_RESPONSE:
        facts["responded_at"] = func.coalesce(tickets.c.responded_at, at)
    if to is Status.RESOLVED:
        facts["resolved_at"] = func.coalesce(tickets.c.resolved_at, at)
    if to is Status.ESCALATED:
        facts["escalated"] = True
    if to is Status.REOPENED:
        facts["reopened"] = True
    if to is Status.RATED and isinstance(data.get("rating"), int):
        facts["rating"] = data["rating"]
    return facts
