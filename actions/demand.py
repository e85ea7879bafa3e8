"""Replies to enterprise demands: name the recognised domain and sub-topic, let the user
correct them, and prepare the ticket form (prefilled from the sender's earlier ticket)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.backend import log_demand, sender_key, ticket_backend
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
#: slots a new ticket can take over from the sender's most recent ticket
_PROFILE = ("company", "credit_code", "contact_name", "mobile", "region")



def acknowledgement(message: dict[str, Any]) -> str | None:
    """The reply for a parsed demand message, or None when it carries no domain."""
    tax = taxonomy()
    domain, subtopic = label_name(message.get("domain")), label_name(message.get("subtopic"))
    if domain not in tax.domains:
        return None
    if subtopic not in tax.subtopics or tax.domain_of(subtopic) != domain:
        subtopic = None
    lines = [f"识别为：{tax.label(domain, subtopic)}"]
    regions = [e["value"] for e in message.get("entities", []) if e.get("entity") == "region"]
    if regions:
        lines.append(f"所在地区：{'、'.join(dict.fromkeys(regions))}")
    if message.get("text_truncated"):
        lines.append("（您的消息较长，已按前一千字理解。）")
    intent = label_name(message.get("intent"))
    lines.append(_FOLLOW_UP.get(intent, _FOLLOW_UP["report_need"]))
    return "\n".join(lines)


def profile_from_last_ticket(tracker: Tracker) -> list[dict[str, Any]]:
    """Fill the enterprise's details from the sender's latest ticket (empty slots only)."""
    try:
        found, _ = ticket_backend().service.store.query(
            Query(sender_id=sender_key(tracker), limit=1))
    except SQLAlchemyError as err:  # the form simply asks for everything
        logger.warning("Earlier tickets not looked up: %s", type(err).__name__)
        return []
    if not found:
        return []
    t = found[0]
    known = {"company": t.enterprise.name, "credit_code": t.enterprise.credit_code,
             "contact_name": t.enterprise.contact, "mobile": t.enterprise.mobile,
             "region": t.region}
    return [SlotSet(k, known[k]) for k in _PROFILE if known[k] and not tracker.get_slot(k)]


class ActionAcknowledgeDemand(Action):
    def name(self) -> str:
        return "action_acknowledge_demand"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        message = tracker.latest_message
        reply = acknowledgement(message)
        log_demand(tracker)
        if reply is None:
            dispatcher.utter_message(response="utter_please_rephrase")
            return [SlotSet("confirm_ticket", False)]
        if label_name(message.get("intent")) != "report_need":
            dispatcher.utter_message(text=reply)
            return [SlotSet("confirm_ticket", False)]
        dispatcher.utter_message(text=reply, buttons=_BUTTONS)
        demand = {"id": uuid.uuid4().hex, "text": message.get("text") or "",
                  "domain": label_name(message.get("domain")),
                  "subtopic": label_name(message.get("subtopic"))}
        return [SlotSet("demand", demand), SlotSet("ticket_number", None),
                SlotSet("confirm_ticket", True), *profile_from_last_ticket(tracker)]


class ActionOfferDomains(Action):
    """"类别不对": offer the eight service domains as buttons."""

    def name(self) -> str:
        return "action_offer_domains"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        tax = taxonomy()
        dispatcher.utter_message(text="请选择您的问题属于哪一类：", buttons=[
            {"title": tax.domains[d].name, "payload": f'/choose_domain{{"picked_domain":"{d}"}}'}
            for d in tax.domains])
        return [SlotSet("confirm_ticket", False)]


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
        demand.update(domain=picked, subtopic=sub, corrected=True)
        dispatcher.utter_message(
            text=f"已改为：{tax.label(picked, sub)}\n{_FOLLOW_UP['report_need']}",
            buttons=[_BUTTONS[0], _BUTTONS[2]])
        return [*reset, SlotSet("demand", demand), SlotSet("confirm_ticket", True)]
