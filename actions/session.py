"""A new session (Rasa starts one after 60 minutes without a message, see domain.yml):
the enterprise's details carry over, an unfinished draft does not — and the user is
told, never left believing that an abandoned registration was submitted."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

#: what a new session keeps: who the enterprise is, and the look-up failure count
CARRIED = ("company", "credit_code", "region", "contact_name", "mobile", "lookup_failures",
           "ticket_number")
FORMS = {"ticket_form": "诉求登记", "profile_form": "政策匹配", "ticket_lookup_form": "工单查询",
         "rating_form": "评价"}


def expired_draft(tracker: Tracker) -> str | None:
    """What the user left unfinished in the previous session, if anything."""
    form = (tracker.active_loop or {}).get("name")
    if form in FORMS:
        return FORMS[form]
    if tracker.get_slot("confirm_ticket") and tracker.get_slot("demand"):
        return "诉求登记"
    return None


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        what = expired_draft(tracker)
        if what:
            dispatcher.utter_message(text=f"您之前未完成的{what}已超过60分钟未操作，已自动取消，"
                                          "没有提交任何信息。")
        carried = [SlotSet(k, tracker.get_slot(k)) for k in CARRIED
                   if tracker.get_slot(k) is not None]
        return [SessionStarted(), *carried, ActionExecuted("action_listen")]
