"""After a ticket is opened: status queries, 催办, 回访评价, hand-over to a person, and the
notifications the department API triggers (``EXTERNAL_ticket_update``)."""

from __future__ import annotations

import logging
import re
from datetime import datetime
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, ConversationResumed, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.backend import STATUS_NAMES, channel_of, describe, sender_key, ticket_backend
from actions.forms import GuardedForm, leave_form, left_form
from actions.tickets import demand_label
from bot import dialogue
from bot.entities import find_ticket_numbers
from bot.taxonomy import taxonomy
from bot.text import normalize
from bot.tickets.lookup import LOOKUP_BLOCKED, LOOKUP_FAILED, LookupBlocked
from bot.tickets.model import Status, Ticket, TicketError, TicketNotFound
from bot.tickets.store import Query

logger = logging.getLogger(__name__)

_RATING_VERB = re.compile(
    r"打\s*[1-5一二两三四五]\s*分|评价|评分|[1-5一二三四五]\s*星|满意|好评|差评")
OPEN = ("assigned", "in_progress", "escalated", "returned", "reopened", "submitted")
_RATING_WORDS = ("分", "星", "满意", "评价", "好评", "差评", "打分", "一般", "还行", "凑合")
UNAVAILABLE = "抱歉，工单系统暂时无法查询，请稍后再试，或拨打 12345 政务服务热线。"
NO_SUCH_TICKET = ("没有找到您本人登记的工单 {number}。请核对工单号；"
                  "他人登记或通过电话等其他渠道登记的工单，请发送“查询工单 工单号”"
                  "并按提示核对手机号后四位，或拨打 12345。")
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


def numbers_in(tracker: Tracker) -> list[str]:
    found = [e["value"] for e in tracker.latest_message.get("entities", [])
             if e.get("entity") == "ticket_number"]
    return found or find_ticket_numbers(tracker.latest_message.get("text") or "")


def own_ticket(tracker: Tracker, number: str) -> Ticket | None:
    """The ticket ``number`` if this sender registered it; None for someone else's and for
    an unknown number alike (nothing here tells whether a number exists)."""
    try:
        ticket = ticket_backend().service.store.get(number)
    except TicketNotFound:
        return None
    return ticket if ticket.sender_id == sender_key(tracker) else None


def own_tickets(tracker: Tracker, *statuses: str, limit: int = 5) -> list[Ticket]:
    found, _ = ticket_backend().service.store.query(
        Query(sender_id=sender_key(tracker), status=statuses or None, limit=limit))
    return sorted(found, key=lambda t: t.created_at, reverse=True)


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
        if numbers and rating_in(said) is not None and _RATING_VERB.search(said):
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


def _target(tracker: Tracker, statuses: tuple[str, ...]) -> tuple[Ticket | None, str | None]:
    """The ticket a follow-up is about: the number in the message (if it is the sender's
    own), else the sender's only ticket in one of ``statuses``; or a reason why not
    (with several candidates the reason is empty: the caller asks which one)."""
    numbers = numbers_in(tracker)
    if numbers:
        ticket = own_ticket(tracker, numbers[0])
        return (ticket, None) if ticket else (None, NO_SUCH_TICKET.format(number=numbers[0]))
    mine = own_tickets(tracker, *statuses, limit=5)
    if len(mine) > 1:
        return None, ""
    return (mine[0], None) if mine else (None, None)


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
            ticket, why = _target(tracker, OPEN)
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
                      else _target(tracker, ("resolved",))[0])
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
        if what == "resolved" and ticket.status is Status.RESOLVED:
            replies = [e.data.get("text", "") for e in events if e.kind == "reply"]
            told = (f"您的工单 {ticket.number} 已办结。\n"
                    f"办理结果：{replies[-1] if replies else '—'}")
            if tracker.active_loop.get("name"):
                # the user is in the middle of a form: it goes on; the rating can wait
                dispatcher.utter_message(text=f"{told}\n当前操作完成后，回复“评价”即可为本次办理打分。")
                return [SlotSet("rating_ticket", ticket.number), no_rating]
            dispatcher.utter_message(text=told)
            # the rating form asks next (utter_ask_rating)
            return [SlotSet("rating_ticket", ticket.number), SlotSet("rating", None),
                    SlotSet("rating_pending", True)]
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
