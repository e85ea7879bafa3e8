"""催办: urging the department once a day per ticket."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.backend import STATUS_NAMES, sender_key, ticket_backend
from actions.own_tickets import OPEN, UNAVAILABLE, numbers_in, own_tickets, target_ticket
from bot import dialogue
from bot.taxonomy import taxonomy

logger = logging.getLogger(__name__)


class ActionUrgeTicket(Action):
    """催办: an event on the ticket, at most once a day; the department sees it."""

    def name(self) -> str:
        return "action_urge_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            text = tracker.latest_message.get("text") or ""
            if dialogue.is_hold(text) and "催" not in text and not numbers_in(tracker):
                dispatcher.utter_message(text="好的，不着急。需要时直接告诉我。")
                return []
            ticket, why = target_ticket(tracker, OPEN)
            if ticket is None and why == "":
                choices = own_tickets(tracker, *OPEN, limit=5)
                tax = taxonomy()
                listed = "\n".join(f"{t.number}：{tax.label(t.domain, t.subtopic)}"
                                   if t.domain in tax.domains else t.number for t in choices)
                dispatcher.utter_message(
                    text=f"您有{len(choices)}件办理中的工单，请选择要催办的工单：\n{listed}",
                    buttons=[{"title": t.number,
                              "payload": f'/urge_ticket{{"ticket_number":"{t.number}"}}'}
                             for t in choices])
                return []
            if ticket is None:
                dispatcher.utter_message(text=why or "没有查到您正在办理中的工单。如需反映新问题，"
                                                     "请直接描述。")
                return []
            if not ticket.is_open:
                dispatcher.utter_message(text=f"工单 {ticket.number} "
                                              f"{STATUS_NAMES[ticket.status.value]}，无需催办。")
                return []
            event = ticket_backend().service.urge(ticket.number, sender_key(tracker))
        except SQLAlchemyError as err:
            logger.error("Urging failed: %s", type(err).__name__)
            dispatcher.utter_message(text=UNAVAILABLE)
            return []
        due = f"办结时限为{ticket.resolution_due:%Y年%m月%d日}。" if ticket.resolution_due else ""
        if event is None:
            dispatcher.utter_message(text=f"工单 {ticket.number} 今天已经催办过，"
                                          f"承办部门已收到提醒。{due}如明天仍无进展，可再次催办。")
        else:
            dispatcher.utter_message(text=f"已催办工单 {ticket.number}，已提醒{ticket.department}"
                                          f"尽快办理并与您联系。{due}")
        return []
