"""Answers to a message with another purpose while a form is asking (see actions/forms.py).

Each answer is short and leaves the form as it is; the form then asks its pending
question again.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

if TYPE_CHECKING:
    from actions.forms import GuardedForm

_SHORT = {
    "greet": "您好！",
    "thank": "不客气。",
    "goodbye": "好的。当前的操作还没有完成，需要时回来继续即可；不需要了请回复“取消”。",
    "match_policy": "政策匹配可以在当前操作完成后进行，届时回复“政策匹配”即可。",
}


async def answer(intent: str, form: GuardedForm, dispatcher: CollectingDispatcher,
                 tracker: Tracker, domain: dict[str, Any]) -> list[EventType] | None:
    """Answer ``intent``; the events to keep (e.g. the policy answer for feedback), or None
    when this form does not take that kind of message."""
    if intent in _SHORT:
        dispatcher.utter_message(text=_SHORT[intent])
        return []
    if intent == "help":
        dispatcher.utter_message(response="utter_help")
        return []
    if intent == "ask_ticket_status":
        from actions.status import ActionTicketStatus

        events = await ActionTicketStatus().run(dispatcher, tracker, domain)
        if any(e.get("name") == "lookup_pending" and e.get("value") for e in events):
            dispatcher.utter_message(text="查询他人登记的工单需要核对手机号，请在当前操作完成后"
                                          "再发送工单号。")
        return []
    if intent == "urge_ticket":
        from actions.urge import ActionUrgeTicket

        await ActionUrgeTicket().run(dispatcher, tracker, domain)
        return []
    if intent == "ask_policy":
        from actions.policy import answer_in_passing

        return answer_in_passing(dispatcher, tracker)
    if intent == "kb_feedback":
        from actions.policy import ActionKbFeedback

        return await ActionKbFeedback().run(dispatcher, tracker, domain)
    if intent == "report_need":
        return await form.new_problem(dispatcher, tracker)
    return None
