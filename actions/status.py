"""Status questions: the sender's own tickets, and anyone's ticket after the mobile's
last four digits (the look-up form)."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.backend import channel_of, describe, ticket_backend
from actions.forms import GuardedForm, leave_form, left_form
from actions.own_tickets import UNAVAILABLE, numbers_in, own_ticket, own_tickets
from actions.rating import RATING_VERB, ActionRateService, rating_in
from actions.urge import ActionUrgeTicket
from bot import dialogue
from bot.text import normalize
from bot.tickets.lookup import LOOKUP_BLOCKED, LOOKUP_FAILED, LookupBlocked

logger = logging.getLogger(__name__)


class ActionTicketStatus(Action):
    """The sender's own tickets; someone else's only with the mobile's last four digits."""

    def name(self) -> str:
        return "action_ticket_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        numbers = numbers_in(tracker)
        said = tracker.latest_message.get("text") or ""
        if numbers and "催" in said:
            await ActionUrgeTicket().run(dispatcher, tracker, domain)
            return [SlotSet("lookup_pending", False)]
        if numbers and rating_in(said) is not None and RATING_VERB.search(said):
            # "给QZ-…打5分": a rating of that ticket, not a status question
            await ActionRateService().run(dispatcher, tracker, domain)
            return [SlotSet("lookup_pending", False)]
        try:
            if numbers:
                ticket = own_ticket(tracker, numbers[0])
                if ticket is None and ticket_backend().lookup.blocked(numbers[0]):
                    dispatcher.utter_message(text=LOOKUP_BLOCKED)  # unknown numbers alike
                    return [SlotSet("lookup_pending", False)]
                if ticket is None:  # someone else's, or no such number: the same question
                    return [SlotSet("lookup_number", numbers[0].upper()),
                            SlotSet("lookup_pending", True)]
                dispatcher.utter_message(text=describe(ticket))
                return [SlotSet("lookup_pending", False)]
            mine = own_tickets(tracker)
        except SQLAlchemyError as err:
            logger.error("Ticket status lookup failed: %s", type(err).__name__)
            dispatcher.utter_message(text=UNAVAILABLE)
            return [SlotSet("lookup_pending", False)]
        if not mine:
            dispatcher.utter_message(text="没有查到您在本渠道登记的工单。如果是通过电话等其他渠道"
                                          "登记的，请发送工单号（例如 QZ-20261126-0001）。")
        else:
            head = f"您最近的{len(mine)}件工单：" if len(mine) > 1 else "您的工单："
            dispatcher.utter_message(text=head + "\n\n" + "\n\n".join(describe(t) for t in mine))
        return [SlotSet("lookup_pending", False)]


_GIVE_UP = re.compile(r"^(?:那|那就|哦|嗯)?(?:算了|不查|不用查|先不查|取消|不看了)|不查了|不用查了")


class ValidateTicketLookupForm(GuardedForm):
    """The mobile's last four digits. A wrong tail is said at once and the digits are asked
    again (the limit per ticket number, bot/tickets/lookup.py, stops guessing); the right
    tail, or a number now blocked, goes on to ``action_ticket_lookup``."""

    form_slots = ("lookup_number", "mobile_tail", "lookup_pending")
    cancelled_text = "好的，已停止查询。"

    def name(self) -> str:
        return "validate_ticket_lookup_form"

    def cancels(self, text: str) -> bool:
        """算了不查了，我也记不清是哪个手机号登记的: a give-up with no four digits in it."""
        plain = normalize(text).text
        if re.search(r"(?<!\d)\d{4}(?!\d)", plain):  # 算了，后四位是1234: an answer
            return False
        return dialogue.is_cancel(text) or bool(_GIVE_UP.search(plain))

    async def answer(self, slot: str, text: str, dispatcher: CollectingDispatcher,
                     tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any] | None:
        digits = re.sub(r"\D", "", normalize(text).text)
        if len(digits) != 4:
            return {"mobile_tail": None} if digits else None
        number = str(tracker.get_slot("lookup_number") or "")
        lookup = ticket_backend().lookup
        try:
            right = lookup.check(number, digits, channel_of(tracker)) is not None
        except LookupBlocked:
            right = True  # action_ticket_lookup says so
        except SQLAlchemyError:
            right = True  # action_ticket_lookup says the system is unavailable
        if right or lookup.blocked(number):
            return {"mobile_tail": digits}
        dispatcher.utter_message(text=LOOKUP_FAILED + "\n可以重新发送后四位；不查了请回复“取消”。")
        return {"mobile_tail": None}

    async def new_problem(self, dispatcher: CollectingDispatcher,
                          tracker: Tracker) -> list[dict[str, Any]] | None:
        """A problem instead of the digits: the look-up ends and the problem is taken up."""
        dispatcher.utter_message(text="好的，先不查工单了。")
        return [*leave_form(*self.form_slots), FollowupAction("action_acknowledge_demand")]

    def hint(self, slot: str, tracker: Tracker) -> str:
        return "请发送4位数字，即登记手机号的最后四位；不查了请回复“取消”。"


class ActionTicketLookup(Action):
    """Show a ticket to someone who knows its number and the mobile's last four digits
    (one limit per ticket number, kept in the database: bot/tickets/lookup.py)."""

    def name(self) -> str:
        return "action_ticket_lookup"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        if left_form(tracker):
            return [SlotSet("form_left", None)]
        number, tail = tracker.get_slot("lookup_number"), tracker.get_slot("mobile_tail") or ""
        reset = [SlotSet("lookup_number", None), SlotSet("mobile_tail", None),
                 SlotSet("lookup_pending", False)]
        try:
            ticket = ticket_backend().lookup.check(str(number or ""), tail, channel_of(tracker))
        except LookupBlocked:
            logger.warning("Ticket look-up refused: too many failures for this number")
            dispatcher.utter_message(text=LOOKUP_BLOCKED)
            return reset
        except SQLAlchemyError as err:
            logger.error("Ticket look-up failed: %s", type(err).__name__)
            dispatcher.utter_message(text=UNAVAILABLE)
            return reset
        dispatcher.utter_message(text=describe(ticket) if ticket else LOOKUP_FAILED)
        return reset
