"""Opening a ticket: duplicate check, routing, deadlines — one call for actions and APIs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from bot.regions import region_table
from bot.tickets.calendar import WorkCalendar
from bot.tickets.model import InvalidTicket, NewTicket, Status, Ticket
from bot.tickets.routing import Route, RoutingRules
from bot.tickets.store import TicketStore, validate_new_ticket

DUPLICATE_WINDOW = timedelta(days=30)
SYSTEM = "system:router"


@dataclass(frozen=True)
class Opened:
    ticket: Ticket
    duplicate: bool  # True: the demand was linked to this existing open ticket
    route: Route | None


class TicketService:
    def __init__(self, store: TicketStore, rules: RoutingRules, calendar: WorkCalendar,
                 clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc)) -> None:
        self.store, self.rules, self.calendar, self.clock = store, rules, calendar, clock

    def open(self, new: NewTicket, actor: str) -> Opened:
        """Link to the enterprise's open ticket on the same sub-topic (last 30 days), or
        create a ticket, route it and set its working-day deadlines."""
        validate_new_ticket(new)
        now = self.clock()
        existing = self.store.find_open(new.subtopic, now - DUPLICATE_WINDOW,
                                        credit_code=new.enterprise.credit_code,
                                        sender_id=new.sender_id)
        if existing:
            ticket = existing[0]
            self.store.add_note(ticket.number, actor, f"企业再次反映：{new.text}")
            return Opened(ticket, duplicate=True, route=None)

        region = region_table().get(new.region)
        if region is None:  # validate_new_ticket checked it; keeps type checkers honest
            raise InvalidTicket(f"unknown region {new.region!r}")
        route = self.rules.route(new.domain, new.subtopic, region)
        deadline = self.rules.deadline(new.domain)
        ticket = self.store.create(new, actor)
        today = now.date()
        ticket = self.store.transition(
            ticket.number, Status.ASSIGNED, SYSTEM, ticket.version,
            reason=f"routing {route.rule}", department=route.department, level=route.level,
            first_response_due=self.calendar.add_workdays(today, deadline.first_response),
            resolution_due=self.calendar.add_workdays(today, deadline.resolution))
        return Opened(ticket, duplicate=False, route=route)
