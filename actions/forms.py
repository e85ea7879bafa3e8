"""What every form does with a reply: cancel, start over, answer, or a digression.

A form (the ticket details, policy matching, a ticket look-up, a rating) asks one
question at a time. Every reply while it is active comes here (the slot mappings take
the whole text for the requested slot), and is read in this order:

1. 重新开始 / 取消 (and the 取消 button) end the form; nothing is kept or submitted.
2. A pending edit (修改手机 → "请发送新的手机号码") takes the reply as the new value.
3. The reply as the *answer to the question asked* (``answer``): a plausible answer
   fills the slot, whatever the NLU guessed.
4. Otherwise a message with another purpose — a status or policy question, a greeting,
   thanks, help, a new problem — is answered (``digress``) and the same question is
   asked again; the draft is kept.
5. Otherwise the form says what it expects (``hint``) and asks again.

Forms end early by returning ``ActiveLoop(None)``; the slot ``form_left`` tells the
action that follows a finished form (opening the ticket, listing policies) that the
user left instead, so it does nothing.
"""

from __future__ import annotations

import logging
from abc import abstractmethod
from typing import Any

from rasa_sdk import FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import dialogue
from bot.parsing import label_name

logger = logging.getLogger(__name__)

#: intents that carry a purpose of their own, confident enough to act on
DIGRESSIONS = {"ask_ticket_status", "ask_policy", "greet", "thank", "help", "goodbye",
               "urge_ticket", "match_policy", "report_need", "kb_feedback"}
#: words that make a request_human guess a real request for a person ("联系人改为…" is not)
_PERSON_WORDS = ("人工", "真人", "客服", "工作人员", "坐席", "接线员", "找人", "领导", "负责人来",
                 "打电话给我", "回个电话", "专人")
MIN_DIGRESSION_CONFIDENCE = 0.5
RESTARTED = "好的，已清空刚才填写的内容。请重新描述您遇到的问题。"


def latest_text(tracker: Tracker) -> str:
    return tracker.latest_message.get("text") or ""


def latest_intent(tracker: Tracker) -> tuple[str | None, float]:
    intent = tracker.latest_message.get("intent") or {}
    return label_name(intent), float(intent.get("confidence") or 0.0)


def wants_person(text: str, tracker: Tracker) -> bool:
    """A request for a person (the button, or the NLU's guess with a person word in it)."""
    if text.strip() == "/request_human":
        return True
    intent, confidence = latest_intent(tracker)
    plain = dialogue.clean(text)
    return intent == "request_human" and confidence >= MIN_DIGRESSION_CONFIDENCE and any(
        w in plain for w in _PERSON_WORDS)


def leave_form(*slots: str) -> list[EventType]:
    """End the active form now; the action after the form sees ``form_left``."""
    return [*(SlotSet(s, None) for s in slots), SlotSet("editing", None),
            SlotSet("form_left", True), SlotSet("requested_slot", None), ActiveLoop(None)]


def left_form(tracker: Tracker) -> bool:
    """Whether the form that just ended was left by the user (cancel, start over)."""
    return bool(tracker.get_slot("form_left"))


class GuardedForm(FormValidationAction):
    """The reading order above; subclasses say what answers their questions."""

    #: slots cleared when the user cancels or starts over
    form_slots: tuple[str, ...] = ()
    cancelled_text = "好的，已取消，没有提交任何信息。"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        requested = tracker.get_slot("requested_slot")
        if requested is None:  # the form is starting: nothing was asked yet
            return await self.start(dispatcher, tracker, domain)
        if requested not in tracker.slots_to_validate():
            # nothing was taken for the slot (a department's notification): Rasa rejects
            # the form, a rule acts, and the form asks its question again
            return []
        text = latest_text(tracker)
        if wants_person(text, tracker):
            # the draft stays; the hand-over offers it again when it ends
            return [SlotSet(requested, None), SlotSet("editing", None),
                    SlotSet("requested_slot", None), ActiveLoop(None),
                    FollowupAction("action_handoff")]
        editing = tracker.get_slot("editing")
        if dialogue.is_restart(text):
            dispatcher.utter_message(text=RESTARTED)
            return leave_form(*self.form_slots, *self.restart_slots())
        if self.cancels(text) and editing != "content":
            dispatcher.utter_message(text=self.cancelled_text)
            return leave_form(*self.form_slots)
        found = await self.answer(editing or requested, text, dispatcher, tracker, domain)
        if found is not None:
            # the mapping put the raw text into the requested slot: always overwrite it
            values = {requested: None, **found}
            return [SlotSet(k, v) for k, v in values.items()]
        side = await self.digress(text, dispatcher, tracker, domain)
        if side is None:
            if dialogue.is_hold(text):
                dispatcher.utter_message(text="好的，不着急，准备好了直接发给我。")
            else:
                dispatcher.utter_message(text=self.hint(editing or requested, tracker))
        return [SlotSet(requested, None), *(side or [])]

    async def start(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                    domain: dict[str, Any]) -> list[EventType]:
        """Events when the form starts (before its first question)."""
        return [SlotSet("form_left", None), SlotSet("editing", None)]

    def cancels(self, text: str) -> bool:
        """Whether ``text`` ends this form (a form may know more ways to say it)."""
        return dialogue.is_cancel(text)

    def restart_slots(self) -> tuple[str, ...]:
        """Slots also cleared by 重新开始 (the draft's problem, for the ticket form)."""
        return ()

    @abstractmethod
    async def answer(self, slot: str, text: str, dispatcher: CollectingDispatcher,
                     tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any] | None:
        """The slots a plausible answer to ``slot`` fills, or None if it is no answer.

        May utter a reason and return ``{slot: None}`` for an answer that is recognisably
        meant for this question but invalid (a credit code with a wrong check digit).
        """

    def hint(self, slot: str, tracker: Tracker) -> str:
        """What the question expects (the question itself is asked again after it)."""
        return "抱歉，没能识别您的回答。不想继续请回复“取消”。"

    async def new_problem(self, dispatcher: CollectingDispatcher,
                          tracker: Tracker) -> list[EventType] | None:
        """A new problem described while this form asks: the user is asked to describe
        it again once the form is done (the ticket form adds it to its draft instead)."""
        dispatcher.utter_message(text="这个问题请在当前操作完成后再描述一次，我会为您登记。")
        return []

    async def digress(self, text: str, dispatcher: CollectingDispatcher, tracker: Tracker,
                      domain: dict[str, Any]) -> list[EventType] | None:
        """Answer a message with another purpose: the events to add, None if it was not
        answered."""
        from actions import digressions

        intent, confidence = latest_intent(tracker)
        if text.startswith("/") and intent in DIGRESSIONS:
            confidence = 1.0  # a button of an earlier message
        if intent not in DIGRESSIONS or confidence < MIN_DIGRESSION_CONFIDENCE:
            return None
        return await digressions.answer(intent, self, dispatcher, tracker, domain)
