"""回访评价: reading a 1–5 score from what the user wrote, asking for it, recording it."""

from __future__ import annotations

import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.backend import sender_key, ticket_backend
from actions.forms import GuardedForm, left_form
from actions.own_tickets import numbers_in, target_ticket
from bot.text import normalize
from bot.tickets.model import Status, TicketError

logger = logging.getLogger(__name__)


RATING_VERB = re.compile(
    r"打\s*[1-5一二两三四五]\s*分|评价|评分|[1-5一二三四五]\s*星|满意|好评|差评")
_RATING_WORDS = ("分", "星", "满意", "评价", "好评", "差评", "打分", "一般", "还行", "凑合")
RATING_BUTTONS = [{"title": f"{n}分", "payload": f'/rate_service{{"rating":"{n}"}}'}
                  for n in (5, 4, 3, 2, 1)]
_CN_SCORES = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_SCORE_RE = re.compile(
    r"(?<!\d)([1-5一二两三四五])\s*(?:分|星|颗星)(?!钟|钱|期|析|之|公|米|半)")
_WORD_SCORES = (("非常不满意", 1), ("很不满意", 1), ("不是很满意", 2), ("不怎么满意", 2),
                ("不算满意", 2), ("谈不上满意", 2), ("不太满意", 2), ("不满意", 2), ("差评", 1),
                ("一般", 3), ("还行", 3), ("凑合", 3), ("非常满意", 5), ("很满意", 5),
                ("满意", 4), ("好评", 5))


def rating_in(text: str, slot: Any = None) -> int | None:
    """A 1–5 score from a button payload, "4分" / "五星", a lone digit, or 满意-words."""
    if slot is not None and str(slot).strip() in {"1", "2", "3", "4", "5"}:
        return int(str(slot).strip())
    text = normalize(text or "").text
    if m := _SCORE_RE.search(text):
        return int(m[1]) if m[1].isdigit() else _CN_SCORES[m[1]]
    if text.strip() in {"1", "2", "3", "4", "5"}:
        return int(text.strip())
    for word, score in _WORD_SCORES:  # longest, most specific words first
        if word in text:
            return score
    return None


class ActionAskRating(Action):
    """The rating form's question, with one button per score (a custom action: Rasa
    would read the braces of the button payloads in a response as slot templates)."""

    def name(self) -> str:
        return "action_ask_rating"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="请为本次服务打分（1-5分，5分为非常满意），也可以附上您的意见。",
                                 buttons=RATING_BUTTONS)
        return []


class ValidateRatingForm(GuardedForm):
    form_slots = ("rating", "rating_pending")
    cancelled_text = "好的，暂不评价。之后想评价，回复“评价”即可。"

    def name(self) -> str:
        return "validate_rating_form"

    async def answer(self, slot: str, text: str, dispatcher: CollectingDispatcher,
                     tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any] | None:
        entities = [e["value"] for e in tracker.latest_message.get("entities", [])
                    if e.get("entity") == "rating"]
        score = rating_in(text, entities[0] if entities else None)
        return {"rating": str(score)} if score is not None else None

    def hint(self, slot: str, tracker: Tracker) -> str:
        return "请回复1到5的分数（5分为非常满意）；暂不评价请回复“取消”。"


class ActionRateService(Action):
    """回访评价: 1–5 after resolution; 1 or 2 reopens the ticket."""

    def name(self) -> str:
        return "action_rate_service"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        if left_form(tracker):
            return [SlotSet("form_left", None)]
        text = tracker.latest_message.get("text") or ""
        score = rating_in(text, tracker.get_slot("rating"))
        reset = [SlotSet("rating", None), SlotSet("rating_pending", False)]
        pending = tracker.get_slot("rating_ticket")
        if not pending and not text.startswith("/") and not numbers_in(tracker) and \
                not any(w in normalize(text).text for w in _RATING_WORDS):
            # a bare "123" or a phone number is not a rating when none was asked for
            dispatcher.utter_message(text="目前没有待评价的工单。查询工单请发送工单号（例如 "
                                          "QZ-20261126-0001）；有新的问题请直接描述。")
            return reset
        try:
            ticket = (ticket_backend().service.store.get(pending) if pending
                      else target_ticket(tracker, ("resolved",))[0])
            if ticket is None or ticket.status is not Status.RESOLVED:
                dispatcher.utter_message(text="感谢您的反馈！目前没有待评价的已办结工单；"
                                              "如有新的问题，请直接描述。")
                return [*reset, SlotSet("rating_ticket", None)]
            if score is None:
                dispatcher.utter_message(text=f"请为工单 {ticket.number} 的办理结果打分"
                                              "（1-5分，5分为非常满意）：", buttons=RATING_BUTTONS)
                return [*reset, SlotSet("rating_ticket", ticket.number)]
            comment = "" if text.startswith("/") else text[:500]
            rated = ticket_backend().service.rate(ticket.number, sender_key(tracker), score,
                                                  comment)
        except (TicketError, SQLAlchemyError) as err:
            logger.error("Rating not recorded: %s", err)
            dispatcher.utter_message(text="抱歉，评价暂时无法记录，请稍后再试。")
            return reset
        if rated.status is Status.REOPENED:
            due = f"，将于{rated.first_response_due:%Y年%m月%d日}前与您联系" \
                if rated.first_response_due else ""
            dispatcher.utter_message(text=f"感谢您的评价（{score}分）。很抱歉办理结果没有让您"
                                          f"满意，工单 {rated.number} 已重新交办"
                                          f"{rated.department}{due}。")
        else:
            dispatcher.utter_message(text=f"感谢您的评价（{score}分）！您的意见会反馈给承办部门。")
        return [*reset, SlotSet("rating_ticket", None)]
