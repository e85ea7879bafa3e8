"""Hand-over to a person (转人工) and its end."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, ConversationResumed, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.backend import channel_of, sender_key, ticket_backend
from actions.own_tickets import own_tickets
from actions.tickets import demand_label
from bot import dialogue

logger = logging.getLogger(__name__)


WEEKDAYS = "一二三四五六日"


def after_hours(opening: datetime) -> str:
    when = f"{opening.month}月{opening.day}日（周{WEEKDAYS[opening.weekday()]}）{opening:%H:%M}"
    return (f"已为您转接人工服务。现在是非工作时间，工作人员将于{when}后在这里回复您，"
            "在此期间智能助手暂停回复。\n如不想等待，可以回复“不用人工了”，然后直接描述问题，"
            "我帮您登记诉求工单，承办部门会按时限办理。紧急事项请拨打 12345 政务服务热线。")


class ActionHandoff(Action):
    """转人工: queue the conversation for staff, flag the open ticket, pause the bot."""

    def name(self) -> str:
        return "action_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        said = [e.get("text") or "" for e in tracker.events if e.get("event") == "user"]
        context = "\n".join(t for t in said[-3:] if t and not t.startswith("/"))
        sender = sender_key(tracker)
        try:
            backend = ticket_backend()
            open_ones = own_tickets(tracker, "assigned", "in_progress", "escalated",
                                    "returned", "reopened", "submitted", limit=1)
            number = open_ones[0].number if open_ones else None
            backend.handoffs.open(sender, tracker.sender_id, channel_of(tracker),
                                  context or "（无文字）", number)
            if number:
                backend.service.store.add_note(number, sender, "企业请求人工服务",
                                               kind="handoff")
        except SQLAlchemyError as err:
            logger.error("Hand-off not recorded: %s", type(err).__name__)
            dispatcher.utter_message(text="抱歉，暂时无法转接人工。请直接拨打 12345 政务服务热线，"
                                          "工作人员会为您服务。")
            return []
        now, calendar = backend.service.clock(), backend.service.calendar
        if calendar.staffed(now):
            dispatcher.utter_message(response="utter_human_handoff")
        else:  # nobody reads it tonight: say when, and offer a ticket meanwhile
            dispatcher.utter_message(text=after_hours(calendar.next_opening(now)))
        if dialogue.draft_pending(tracker.get_slot("demand"), tracker.get_slot("ticket_number")):
            dispatcher.utter_message(text="您正在登记的诉求还没有提交，已为您保留；人工服务结束后可以继续。")
        return [ConversationPaused()]


class ActionHandoffClosed(Action):
    """The hand-over ended: staff closed it (``EXTERNAL_handoff_closed``) or the user asked
    for the assistant back (取消转人工). A draft kept from before is offered again."""

    def name(self) -> str:
        return "action_handoff_closed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        by_user = tracker.latest_message.get("intent", {}).get("name") == "cancel_handoff"
        events: list[dict[str, Any]] = []
        if by_user:
            try:
                closed = ticket_backend().handoffs.close_for(sender_key(tracker))
            except SQLAlchemyError as err:
                logger.error("Hand-off not closed: %s", type(err).__name__)
                closed = 0
            if not closed and not tracker.is_paused():
                dispatcher.utter_message(text="当前没有进行中的人工服务，智能助手正在为您服务。")
            else:
                dispatcher.utter_message(text="好的，已取消人工服务，智能助手继续为您服务。")
            events.append(ConversationResumed())
        else:
            dispatcher.utter_message(text="人工服务已结束，智能助手继续为您服务。还有其他问题随时告诉我。")
        demand = tracker.get_slot("demand")
        if dialogue.draft_pending(demand, tracker.get_slot("ticket_number")):
            dispatcher.utter_message(
                text=f"您之前反映的问题（{demand_label(demand)}）还没有提交，需要继续登记吗？",
                buttons=[{"title": "继续登记", "payload": "/affirm"},
                         {"title": "不用了", "payload": "/deny"}])
            return [*events, SlotSet("confirm_ticket", True)]
        return [*events, SlotSet("confirm_ticket", False)]
