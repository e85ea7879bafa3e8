"""The closed loop as operations: open, accept, resolve, return, reassign, escalate, rate,
urge — one place that routes, sets deadlines and writes events, for actions and APIs."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from sqlalchemy.exc import IntegrityError

from bot.regions import Region, region_table
from bot.taxonomy import taxonomy
from bot.tickets.calendar import WorkCalendar
from bot.tickets.model import (
    REPORT_CHANNEL,
    Event,
    InvalidTicket,
    NewTicket,
    Status,
    Ticket,
    TicketError,
    china_date,
)
from bot.tickets.routing import Route, RoutingRules
from bot.tickets.store import Assignment, Note, Query, TicketStore, validate_new_ticket

logger = logging.getLogger(__name__)

DUPLICATE_WINDOW = timedelta(days=30)
ROUTER = "system:router"
DEADLINE_WATCH = "system:deadline"
REOPEN_AT_OR_BELOW = 2  # a rating of 1 or 2 reopens the ticket and opens the centre's review
REVIEWER = "system:review"


@dataclass(frozen=True)
class Opened:
    ticket: Ticket
    duplicate: bool  # True: the demand was linked to this existing open ticket
    route: Route | None
    repeated: bool = False  # True: this request (idempotency key) was handled before


class TicketService:
    def __init__(self, store: TicketStore, rules: RoutingRules, calendar: WorkCalendar,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.store, self.rules, self.calendar, self.clock = store, rules, calendar, clock

    # -- opening -----------------------------------------------------------------
    def open(self, new: NewTicket, actor: str, request_key: str | None = None) -> Opened:
        """Link to the enterprise's open ticket on the same sub-topic (last 30 days), or
        create a ticket routed to its department with working-day deadlines.

        With ``request_key`` the call is idempotent: a retried or doubled request gets the
        outcome of the first one and changes nothing.
        """
        validate_new_ticket(new)
        if request_key and (earlier := self.store.by_request(request_key)):
            return Opened(earlier[0], duplicate=earlier[1], route=None, repeated=True)
        try:
            return self._open(new, actor, request_key)
        except IntegrityError:
            # the same key committed by a concurrent call in between: return its outcome
            if request_key and (earlier := self.store.by_request(request_key)):
                return Opened(earlier[0], duplicate=earlier[1], route=None, repeated=True)
            raise

    def _open(self, new: NewTicket, actor: str, request_key: str | None) -> Opened:
        now = self.clock()
        existing = self.store.find_open(new.subtopic, now - DUPLICATE_WINDOW,
                                        credit_code=new.enterprise.credit_code,
                                        sender_id=new.sender_id)
        if existing:
            ticket = existing[0]
            self.store.add_note(ticket.number, actor, f"企业再次反映：{new.text}",
                                request_key=request_key)
            return Opened(ticket, duplicate=True, route=None)

        region = self._region(new.region)
        route = self.rules.route(new.domain, new.subtopic, region)
        first, resolution = self.due_dates(new.domain)
        ticket = self.store.create(new, actor, request_key, Assignment(
            route.department, route.level, f"routing {route.rule}", first, resolution))
        if route.needs_level:  # the authority list (权责清单) reserves it for a higher level
            ticket = self.escalate(
                ticket.number, ROUTER, ticket.version, to=route.needs_level,
                reason=f"beyond local authority: the authority list assigns "
                       f"{new.subtopic} to the {route.needs_level} level")
        return Opened(ticket, duplicate=False, route=route)

    # -- department work ---------------------------------------------------------
    def accept(self, number: str, actor: str, version: int) -> Ticket:
        return self.store.transition(number, Status.IN_PROGRESS, actor, version,
                                     reason="accepted")

    def resolve(self, number: str, actor: str, version: int, reply: str) -> Ticket:
        if not reply.strip():
            raise InvalidTicket("a resolution needs a reply to the enterprise")
        ticket = self.store.get(number)
        notes = [Note(number, "reply", reply.strip())]
        if ticket.channel == REPORT_CHANNEL:  # the answer goes on each ticket reported on
            notes += [Note(related, "report_answer", reply.strip(),
                           {"report": number, "department": ticket.department})
                      for related in self.store.related(number)]
        return self.store.transition(number, Status.RESOLVED, actor, version,
                                     reason="resolved", also=tuple(notes))

    def return_for_rerouting(self, number: str, actor: str, version: int,
                             reason: str) -> Ticket:
        if not reason.strip():
            raise InvalidTicket("returning a ticket needs a reason")
        return self.store.transition(number, Status.RETURNED, actor, version, reason=reason)

    def reassign(self, number: str, actor: str, version: int, *, reason: str,
                 department: str | None = None, level: str | None = None,
                 domain: str | None = None, subtopic: str | None = None) -> Ticket:
        """Assign again, e.g. after a return: to a named department, or by the routing
        rules after staff corrected the domain / sub-topic."""
        ticket = self.store.get(number)
        domain, subtopic = domain or ticket.domain, subtopic or ticket.subtopic
        tax = taxonomy()
        if subtopic not in tax.subtopics or tax.domain_of(subtopic) != domain:
            raise InvalidTicket(f"sub-topic {subtopic!r} is not in domain {domain!r}")
        if department is None:
            route = self.rules.route(domain, subtopic, self._region(ticket.region))
            department, level = route.department, level or route.level
        first, resolution = self.due_dates(domain)
        return self.store.transition(
            number, Status.ASSIGNED, actor, version, reason=reason or "reassigned",
            department=department, level=level or ticket.level, domain=domain,
            subtopic=subtopic, first_response_due=first, resolution_due=resolution)

    def escalate(self, number: str, actor: str, version: int, reason: str,
                 to: str | None = None) -> Ticket:
        """To the next level up (or to level ``to``), with fresh deadlines; every
        escalation is an event with its reason."""
        if not reason.strip():
            raise InvalidTicket("an escalation needs a reason")
        ticket = self.store.get(number)
        target = self.rules.escalation_target(self._region(ticket.region), ticket.level, to)
        if target is None:
            raise InvalidTicket(f"ticket {number} is at the {ticket.level} level already; "
                                "there is no level above it")
        first, resolution = self.due_dates(ticket.domain)
        return self.store.transition(
            number, Status.ESCALATED, actor, version, reason=reason,
            department=target.department, level=target.level,
            first_response_due=first, resolution_due=resolution)

    def escalate_overdue(self) -> list[Ticket]:
        """The periodic job: escalate every open ticket past a deadline one level up.
        Province-level tickets cannot go higher; they get one 'overdue' note per deadline."""
        today = china_date(self.clock())
        escalated = []
        overdue, _ = self.store.query(Query(overdue_on=today, limit=10_000))
        for t in overdue:
            missed = ("first response" if t.status is Status.ASSIGNED and t.first_response_due
                      and t.first_response_due < today else "resolution")
            due = t.first_response_due if missed == "first response" else t.resolution_due
            reason = f"overdue: {missed} was due {due}"
            try:
                if t.level == "province":
                    if not any(e.kind == "overdue" and e.data.get("due") == str(due)
                               for e in self.store.events(t.number)):
                        self.store.add_note(t.number, DEADLINE_WATCH, reason, kind="overdue",
                                            due=str(due))
                    continue
                escalated.append(self.escalate(t.number, DEADLINE_WATCH, t.version, reason))
            except TicketError as err:  # changed by a handler meanwhile: next run
                logger.info("Overdue ticket %s not escalated: %s", t.number, err)
        if escalated:
            logger.info("Escalated %d overdue ticket(s).", len(escalated))
        return escalated

    def follow_up_unrated(self, workdays: int) -> list[Ticket]:
        """回访: a resolved ticket the enterprise has not rated ``workdays`` working days
        after its resolution gets one follow-up (an event; the notifier asks for the
        rating again). Returns the tickets to ask about."""
        now = self.clock()
        today = china_date(now)
        due = []
        for ticket, resolved_at in self.store.resolved_unrated(now - timedelta(days=workdays)):
            if self.calendar.add_workdays(china_date(resolved_at), workdays) > today:
                continue
            self.store.add_note(ticket.number, DEADLINE_WATCH,
                                f"回访：办结{workdays}个工作日未评价，再次请企业评价",
                                kind="followup")
            due.append(ticket)
        return due

    def close(self, number: str, actor: str, version: int, reason: str) -> Ticket:
        return self.store.transition(number, Status.CLOSED, actor, version, reason=reason)

    # -- the enterprise's side ---------------------------------------------------------
    def rate(self, number: str, actor: str, score: int, comment: str = "") -> Ticket:
        """回访评价: 1–5 after resolution; 1 or 2 reopens the ticket with fresh deadlines and
        opens a review by the centre (an event ``review``, concluded by ``review``)."""
        if not 1 <= score <= 5:
            raise InvalidTicket("a rating is a whole number from 1 to 5")
        ticket = self.store.get(number)
        ticket = self.store.transition(number, Status.RATED, actor, ticket.version,
                                       reason="rated", data={"rating": score, "comment": comment})
        if score <= REOPEN_AT_OR_BELOW:
            first, resolution = self.due_dates(ticket.domain)
            review = Note(number, "review", comment.strip() or f"企业评价{score}分",
                          {"rating": score}, actor=REVIEWER)
            ticket = self.store.transition(
                number, Status.REOPENED, actor, ticket.version,
                reason=f"rating {score}: the enterprise is not satisfied", also=(review,),
                first_response_due=first, resolution_due=resolution)
        return ticket

    def conclude_review(self, number: str, actor: str, conclusion: str) -> Event:
        """The centre's conclusion of the review a low rating opened (复核意见)."""
        if not conclusion.strip():
            raise InvalidTicket("a review needs a conclusion")
        kinds = [e.kind for e in self.store.events(number)]
        if kinds.count("review") <= kinds.count("reviewed"):
            raise InvalidTicket(f"ticket {number} has no review waiting")
        return self.store.add_note(number, actor, conclusion.strip(), kind="reviewed")

    def urge(self, number: str, actor: str) -> Event | None:
        return self.store.urge(number, actor)

    # -- helpers ---------------------------------------------------------------------
    def due_dates(self, domain: str) -> tuple[date, date]:
        deadline = self.rules.deadline(domain)
        today = china_date(self.clock())
        return (self.calendar.add_workdays(today, deadline.first_response),
                self.calendar.add_workdays(today, deadline.resolution))

    @staticmethod
    def _region(name: str) -> Region:
        region = region_table().get(name)
        if region is None:
            raise InvalidTicket(f"unknown region {name!r}")
        return region
