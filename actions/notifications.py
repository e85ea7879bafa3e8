"""The notifications the department API triggers (``EXTERNAL_ticket_update``)."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.backend import describe, ticket_backend
from bot.tickets.model import Status, TicketNotFound

logger = logging.getLogger(__name__)


class ActionTicketUpdate(Action):
    """Word a status change the department API announced (``EXTERNAL_ticket_update``)."""

    def name(self) -> str:
        return "action_ticket_update"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        entities = {e["entity"]: e["value"] for e in tracker.latest_message.get("entities", [])}
        number, what = entities.get("ticket_number"), entities.get("ticket_status")
        no_rating = SlotSet("rating_pending", False)
        try:
            ticket = ticket_backend().service.store.get(str(number))
            events = ticket_backend().service.store.events(ticket.number)
        except (TicketNotFound, SQLAlchemyError) as err:
            logger.error("Notification for %s not worded: %s", number, type(err).__name__)
            return [no_rating]
        if what == "registered":
            dispatcher.utter_message(text=f"您之前提交的诉求已登记。\n{describe(ticket)}")
            return [SlotSet("ticket_number", ticket.number), no_rating]
        if what in ("resolved", "followup") and ticket.status is Status.RESOLVED:
            replies = [e.data.get("text", "") for e in events if e.kind == "reply"]
            told = (f"您的工单 {ticket.number} 已办结。\n" if what == "resolved" else
                    f"【回访】您反映的诉求（工单 {ticket.number}，{ticket.department}办理）已办结，"
                    "想请您对办理结果做个评价。\n") + \
                f"办理结果：{replies[-1] if replies else '—'}"
            if tracker.active_loop.get("name"):
                # the user is in the middle of a form: it goes on; the rating can wait
                dispatcher.utter_message(text=f"{told}\n当前操作完成后，回复“评价”即可为本次办理打分。")
                return [SlotSet("rating_ticket", ticket.number), no_rating]
            dispatcher.utter_message(text=told)
            # the rating form asks next (utter_ask_rating)
            return [SlotSet("rating_ticket", ticket.number), SlotSet("rating", None),
                    SlotSet("rating_pending", True)]
        if what == "report_answer":
            answers = [e for e in events if e.kind == "report_answer"]
            if not answers:
                return [no_rating]
            a = answers[-1].data
            where = a.get("department") or "上级部门"
            dispatcher.utter_message(text=(
                f"您反映的问题（工单 {ticket.number}）与其他企业反映的情况相同，已作为共性问题"
                f"上报{where}协调。答复如下：\n{a.get('text', '')}"))
            return [no_rating]
        texts = {
            "in_progress": f"{ticket.department}已受理您的工单 {ticket.number}，正在办理。",
            "escalated": f"您的工单 {ticket.number} 已提交{ticket.department}协调办理。",
            "assigned": f"您的工单 {ticket.number} 已转交{ticket.department}办理。",
            "reopened": f"您的工单 {ticket.number} 已重新交办{ticket.department}。",
            "closed": f"您的工单 {ticket.number} 已关闭。感谢您的反馈！",
        }
        if what in texts:
            dispatcher.utter_message(text=texts[what])
        return [no_rating]
