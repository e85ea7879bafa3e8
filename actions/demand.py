"""Replies to enterprise demands: name the recognised domain and sub-topic (or each of
several demands), let the user correct them, and prepare the ticket form with what the
user stated (their own enterprise, the county) and the sender's earlier ticket."""

from __future__ import annotations

import asyncio
import logging
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.backend import channel_of, log_demand, sender_key, ticket_backend
from actions.nlu import parse_parts
from actions.tickets import NO_CODE, demand_label
from bot import dialogue
from bot.parsing import label_name
from bot.taxonomy import taxonomy
from bot.tickets.store import Query

logger = logging.getLogger(__name__)

_FOLLOW_UP = {
    "report_need": "需要为您登记诉求并转交责任部门办理吗？",
    "ask_policy": "如识别有误，请换个说法再问一次；需要工作人员解答，请回复“转人工”。",
}
_BUTTONS = [{"title": "需要登记", "payload": "/affirm"},
            {"title": "类别不对", "payload": "/correct_domain"},
            {"title": "不用了", "payload": "/deny"}]
_MULTI_BUTTONS = [{"title": "全部登记", "payload": "/affirm"},
                  {"title": "不用了", "payload": "/deny"}]
#: slots a new ticket can take over from the sender's most recent ticket
_PROFILE = ("company", "credit_code", "contact_name", "mobile", "region")
VAGUE_CONFIDENCE = 0.35  # a short report below this domain confidence gets a question
SURE_DOMAIN = 0.6  # from here a "说来话长…" message names its problem clearly enough
PART_CONFIDENCE = 0.35  # a part of a message is a demand of its own from this confidence
DEMAND_INTENTS = {"report_need", "ask_policy"}
LONG_MESSAGE = 300  # characters from which the request sentences weigh most
VAGUE_QUESTION = ("理解您的难处，我们一起想办法。为了尽快找到负责的部门，请问主要是哪方面的问题？"
               "可以点下面的类别，也可以直接说说具体情况（例如“贷款到期银行不续贷”“招不到工人”）。")


def acknowledgement(message: dict[str, Any], demands: list[dict[str, Any]] | None = None
                    ) -> str | None:
    """The reply for a parsed demand message, or None when it carries no domain."""
    tax = taxonomy()
    demands = demands or [{"domain": label_name(message.get("domain")),
                           "subtopic": label_name(message.get("subtopic"))}]
    if demands[0]["domain"] not in tax.domains:
        return None
    if len(demands) == 1:
        lines = [f"识别为：{demand_label(demands[0])}"]
    else:
        lines = [f"您反映了{len(demands)}项诉求："]
        lines += [f"{i}. {demand_label(d)}" for i, d in enumerate(demands, start=1)]
    regions = [r.name for r in dialogue.stated_regions(message.get("text") or "")]
    if regions:
        lines.append(f"所在地区：{regions[0]}")
    if message.get("text_truncated"):
        lines.append("（您的消息较长，已按前五千字理解。）")
    if len(demands) > 1:
        lines.append("需要为您登记吗？每项诉求单独成一件工单，转交各自的责任部门；企业信息只需填写一次。")
    else:
        intent = label_name(message.get("intent"))
        lines.append(_FOLLOW_UP.get(intent, _FOLLOW_UP["report_need"]))
    return "\n".join(lines)


def profile_from_last_ticket(tracker: Tracker) -> list[dict[str, Any]]:
    """Fill the enterprise's details from the sender's latest ticket, when the ticket form
    starts: only slots this conversation has not filled (what the user stated wins)."""
    known = {k: tracker.get_slot(k) for k in (*_PROFILE, "region_city")}
    try:
        found, _ = ticket_backend().service.store.query(
            Query(sender_id=sender_key(tracker), limit=1))
    except SQLAlchemyError as err:  # the form simply asks for everything
        logger.warning("Earlier tickets not looked up: %s", type(err).__name__)
        return []
    if not found:
        return []
    t = found[0]
    last = {"company": t.enterprise.name, "credit_code": t.enterprise.credit_code,
            "contact_name": t.enterprise.contact, "mobile": t.enterprise.mobile,
            "region": t.region}
    if known.get("company") and known["company"] != t.enterprise.name:
        last["credit_code"] = None  # another enterprise: its code is not this one's
    elif not t.enterprise.credit_code:
        last["credit_code"] = NO_CODE  # skipped last time: not asked again
    if known.get("region_city"):
        last["region"] = None  # the user named a city: ask for its county
    return [SlotSet(k, last[k]) for k in _PROFILE if last[k] and not known.get(k)]


def stated_details(text: str, tracker: Tracker) -> dict[str, Any]:
    """The enterprise and county a message states: an own company (我们公司是…) and the
    most specific place outside company names (a county beats a city)."""
    found: dict[str, Any] = {}
    own = dialogue.own_company(text)
    if own:
        found["company"] = own
        if own != tracker.get_slot("company"):
            found["credit_code"] = None
    regions = dialogue.stated_regions(text)
    if regions and regions[0].level == "county":
        found.update(region=regions[0].name, region_city=None)
    elif regions and regions[0].level == "city" and dialogue.more_specific(
            regions[0], tracker.get_slot("region")):
        found.update(region=None, region_city=regions[0].name)
    return found


def _confidence(parse: dict[str, Any]) -> float:
    return float((parse.get("domain") or {}).get("confidence") or 0.0)


def demands_in(message: dict[str, Any]) -> list[str]:
    """The parts of a message that may be demands of their own (no NLU)."""
    text = message.get("text") or ""
    return dialogue.demand_segments(text, enumerated_only=len(text) >= LONG_MESSAGE)


async def read_demands(message: dict[str, Any], parts: list[str]) -> list[dict[str, Any]]:
    """The demands of a message (``parts``: its ``demands_in``): one per part when it lists
    several of different categories (一是…二是…, 另外…), else one; for a long letter the
    request sentences weigh most."""
    text = message.get("text") or ""
    whole = {"text": text, "domain": label_name(message.get("domain")),
             "subtopic": label_name(message.get("subtopic"))}
    if len(parts) >= 2:
        found: list[dict[str, Any]] = []
        for part, p in zip(parts, await parse_parts(parts) or [], strict=False):
            dom, sub = label_name(p.get("domain")), label_name(p.get("subtopic"))
            if label_name(p.get("intent")) in DEMAND_INTENTS and dom and \
                    _confidence(p) >= PART_CONFIDENCE and \
                    (dom, sub) not in {(d["domain"], d["subtopic"]) for d in found}:
                found.append({"text": part, "domain": dom, "subtopic": sub})
        if len(found) >= 2:
            return found
    if len(text) >= LONG_MESSAGE:
        asks = dialogue.request_sentences(text)
        parsed = await parse_parts(["".join(asks)[-600:]]) if asks else None
        if parsed and label_name(parsed[0].get("domain")) and \
                _confidence(parsed[0]) >= max(0.4, _confidence(message) - 0.1):
            whole.update(domain=label_name(parsed[0].get("domain")),
                         subtopic=label_name(parsed[0].get("subtopic")))
    return [whole]


def is_vague(message: dict[str, Any]) -> bool:
    """A short report the NLU cannot place, or an opener that only says it is hard."""
    text = message.get("text") or ""
    short = len(dialogue.clean(text)) <= 30
    # vague words land in the catch-all domain "other" with any confidence
    return short and _confidence(message) < VAGUE_CONFIDENCE or dialogue.is_vague(text) and (
        _confidence(message) < SURE_DOMAIN or label_name(message.get("domain")) == "other")


def ask_for_domain(dispatcher: CollectingDispatcher, text: str) -> list[dict[str, Any]]:
    """Acknowledge a vague opener and ask which area it is about (the eight domains as
    buttons); the opener is kept as the beginning of the problem's description."""
    dispatcher.utter_message(text=VAGUE_QUESTION, buttons=domain_buttons())
    demand = {"id": uuid.uuid4().hex, "text": text, "domain": None, "subtopic": None}
    return [SlotSet("demand", demand), SlotSet("more_demands", None),
            SlotSet("confirm_ticket", False)]


def domain_buttons() -> list[dict[str, str]]:
    tax = taxonomy()
    return [{"title": tax.domains[d].name, "payload": f'/choose_domain{{"picked_domain":"{d}"}}'}
            for d in tax.domains]


class ActionAcknowledgeDemand(Action):
    def name(self) -> str:
        return "action_acknowledge_demand"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        message = tracker.latest_message
        text = message.get("text") or ""
        pending = tracker.get_slot("demand")
        parts = demands_in(message)
        if tracker.get_slot("confirm_ticket") and pending and (
                dialogue.wants_all(text) or dialogue.is_confirmation(text)):
            # "两个都要登记": an answer to the registration question, not a new problem
            return [FollowupAction("ticket_form")]
        if tracker.get_slot("confirm_ticket") and pending and pending.get("domain") and \
                label_name(message.get("domain")) == pending["domain"] and len(parts) == 1:
            # more about the same problem before the yes: the description grows
            grown = {**pending, "text": f"{pending.get('text', '')}\n{text}"}
            dispatcher.utter_message(text=f"已补充到诉求内容（{demand_label(grown)}）。"
                                          f"{_FOLLOW_UP['report_need']}", buttons=_BUTTONS)
            return [SlotSet("demand", grown), *(SlotSet(k, v) for k, v in
                                                stated_details(text, tracker).items()),
                    SlotSet("confirm_ticket", True)]
        await log_demand(tracker)
        details = stated_details(text, tracker)
        stated = [SlotSet(k, v) for k, v in details.items()]
        opener = pending.get("text") if pending and not pending.get("domain") else None
        demands = await read_demands(message, parts)
        if len(demands) == 1 and not opener and is_vague(message):
            return [*stated, *ask_for_domain(dispatcher, text)]
        reply = acknowledgement(message, demands)
        if reply is None:
            dispatcher.utter_message(response="utter_please_rephrase")
            return [*stated, SlotSet("confirm_ticket", False)]
        if label_name(message.get("intent")) != "report_need" and not opener \
                and len(demands) == 1:
            dispatcher.utter_message(text=reply)
            return [*stated, SlotSet("confirm_ticket", False)]
        if opener:  # what follows a vague opener is the problem, however it is phrased
            reply = reply.replace(_FOLLOW_UP["ask_policy"], _FOLLOW_UP["report_need"])
        dispatcher.utter_message(text=reply, buttons=_BUTTONS if len(demands) == 1
                                 else _MULTI_BUTTONS)
        first = {"id": uuid.uuid4().hex, **demands[0]}
        if opener:  # the user's first, vague words belong to the problem
            first["text"] = f"{opener}\n{first['text']}"
        return [*stated, SlotSet("demand", first), SlotSet("more_demands", demands[1:] or None),
                SlotSet("ticket_number", None), SlotSet("ticket_confirmed", None),
                SlotSet("confirm_ticket", True)]


class ActionDeclineTicket(Action):
    """"不用了" to the registration question: say so and drop the draft."""

    def name(self) -> str:
        return "action_decline_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_no_ticket")
        return [SlotSet("demand", None), SlotSet("more_demands", None)]


class ActionOfferDomains(Action):
    """"类别不对": offer the eight service domains as buttons."""

    def name(self) -> str:
        return "action_offer_domains"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        dispatcher.utter_message(text="请选择您的问题属于哪一类：", buttons=domain_buttons())
        return [SlotSet("confirm_ticket", False)]


def remember_correction(tracker: Tracker, demand: dict[str, Any],
                        chosen: tuple[str, str]) -> None:
    """类别不对 with a category chosen: a correction for the administrator's review
    (bot.corrections). Never fails the turn."""
    from bot import corrections

    try:
        corrections.record(ticket_backend().engine, text=demand.get("text") or "",
                           intent="report_need",
                           predicted=(demand.get("domain"), demand.get("subtopic")),
                           chosen=chosen, source="user", username=channel_of(tracker))
    except (SQLAlchemyError, corrections.CorrectionError) as err:
        logger.warning("User correction not stored: %s", type(err).__name__)


class ActionSetDomain(Action):
    """The user picked a domain (then a sub-topic): correct the demand and ask again."""

    def name(self) -> str:
        return "action_set_domain"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        tax = taxonomy()
        picked = tracker.get_slot("picked_domain")
        sub = tracker.get_slot("picked_subtopic")
        demand = dict(tracker.get_slot("demand") or {})
        reset = [SlotSet("picked_domain", None), SlotSet("picked_subtopic", None)]
        if not demand or picked not in tax.domains:
            dispatcher.utter_message(response="utter_please_rephrase")
            return [*reset, SlotSet("confirm_ticket", False)]
        if sub not in tax.subtopics or tax.domain_of(sub) != picked:
            payload = '/choose_domain{{"picked_domain":"{}","picked_subtopic":"{}"}}'
            dispatcher.utter_message(text=f"{tax.domains[picked].name}中，具体是哪一类？", buttons=[
                {"title": s.name, "payload": payload.format(picked, s.id)}
                for s in tax.domains[picked].subtopics])
            return [*reset, SlotSet("confirm_ticket", False)]
        if demand.get("domain") and not demand.get("corrected"):
            await asyncio.to_thread(remember_correction, tracker, demand, (picked, sub))
        demand.update(domain=picked, subtopic=sub, corrected=True)
        dispatcher.utter_message(
            text=f"已改为：{tax.label(picked, sub)}\n{_FOLLOW_UP['report_need']}",
            buttons=[_BUTTONS[0], _BUTTONS[2]])
        return [*reset, SlotSet("demand", demand), SlotSet("confirm_ticket", True)]
