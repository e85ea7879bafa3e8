"""Replies to enterprise demands: name the recognised domain and sub-topic."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.taxonomy import taxonomy

_FOLLOW_UP = {
    "report_need": "需要为您登记诉求并转交责任部门办理吗？（如识别有误，请换个说法再描述一次）",
    "ask_policy": "如识别有误，请换个说法再问一次；需要工作人员解答，请回复“转人工”。",
}
_BUTTONS = [{"title": "需要登记", "payload": "/affirm"}, {"title": "不用了", "payload": "/deny"}]


def _name(label: Any) -> str | None:
    return label.get("name") if isinstance(label, dict) else None


def acknowledgement(message: dict[str, Any]) -> str | None:
    """The reply for a parsed demand message, or None when it carries no domain."""
    tax = taxonomy()
    domain, subtopic = _name(message.get("domain")), _name(message.get("subtopic"))
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
    intent = _name(message.get("intent"))
    lines.append(_FOLLOW_UP.get(intent, _FOLLOW_UP["report_need"]))
    return "\n".join(lines)


class ActionAcknowledgeDemand(Action):
    def name(self) -> str:
        return "action_acknowledge_demand"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        message = tracker.latest_message
        reply = acknowledgement(message)
        if reply is None:
            dispatcher.utter_message(response="utter_please_rephrase")
            return [SlotSet("confirm_ticket", False)]
        if _name(message.get("intent")) != "report_need":
            dispatcher.utter_message(text=reply)
            return [SlotSet("confirm_ticket", False)]
        dispatcher.utter_message(text=reply, buttons=_BUTTONS)
        demand = {"text": message.get("text") or "", "domain": _name(message.get("domain")),
                  "subtopic": _name(message.get("subtopic"))}
        return [SlotSet("demand", demand), SlotSet("ticket_number", None),
                SlotSet("confirm_ticket", True)]
