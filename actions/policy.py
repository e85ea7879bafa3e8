"""Policy questions answered from the knowledge base, with the passage and its citation —
or an honest "the knowledge base has no answer" and the offer of a ticket."""

from __future__ import annotations

import logging
import threading
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.backend import sender_key, ticket_backend
from bot.kb.index import KnowledgeBase, kb_file
from bot.settings import load_settings
from bot.taxonomy import taxonomy

logger = logging.getLogger(__name__)

PASSAGE_CHARS = 300
CONFIDENT = 0.5  # below: "these documents may be related", not "according to"
FEEDBACK_BUTTONS = [{"title": "有帮助", "payload": '/kb_feedback{"helpful":"yes"}'},
                    {"title": "没帮助", "payload": '/kb_feedback{"helpful":"no"}'}]
NO_ANSWER_BUTTONS = [{"title": "需要登记", "payload": "/affirm"},
                     {"title": "转人工", "payload": "/request_human"},
                     {"title": "不用了", "payload": "/deny"}]


class _LazyKnowledgeBase:
    """Opened on first use; built from the project's policy folder if it does not exist."""

    def __init__(self) -> None:
        self._kb: KnowledgeBase | None = None
        self._lock = threading.Lock()

    def __call__(self) -> KnowledgeBase:
        with self._lock:
            if self._kb is None:
                settings = load_settings()
                fresh = not kb_file(settings.kb_dir).exists()
                self._kb = KnowledgeBase(settings.kb_dir, create=fresh)
                if fresh:
                    logger.info("Knowledge base: %s",
                                self._kb.ingest(settings.kb_source_dir).summary())
            return self._kb


knowledge_base = _LazyKnowledgeBase()


def trimmed(text: str, limit: int = PASSAGE_CHARS) -> str:
    flat = text.replace("\n", "")
    if len(flat) <= limit:
        return flat
    cut = max(flat.rfind(p, 0, limit) for p in "。；")
    return flat[:cut + 1] if cut >= limit // 2 else flat[:limit] + "……"


def citation(hit: dict[str, Any]) -> str:
    parts = [p for p in (hit.get("doc_no"), hit.get("issuer"), hit.get("date")) if p]
    return f"《{hit['title']}》" + (f"（{'，'.join(parts)}）" if parts else "")


def answer_text(hits: list[dict[str, Any]]) -> str:
    top = hits[0]
    lines = []
    if top["expired"]:
        lines.append(f"注意：该文件已于{top['valid_until']}到期，以下内容仅供了解，不代表现行政策，"
                     "请向主管部门确认最新规定。")
    if top.get("confidence", 1) >= CONFIDENT:
        lines.append(f"根据{citation(top)}“{top['section']}”：")
    else:
        lines.append(f"没有找到完全对应的答案，以下内容可能相关——{citation(top)}“{top['section']}”：")
    lines.append(trimmed(top["passage"]))
    if top.get("url"):
        lines.append(f"原文：{top['url']}")
    related = [h for h in hits[1:3] if h.get("confidence", 1) > 0]
    if related:
        lines.append("相关文件：")
        lines += [f"· {citation(h)}" + ("（已到期）" if h["expired"] else "") for h in related]
    lines.append("以上内容摘自政策原文，具体以主管部门解释为准。这个回答对您有帮助吗？")
    return "\n".join(lines)


def _name(label: Any) -> str | None:
    return label.get("name") if isinstance(label, dict) else None


class ActionAnswerPolicy(Action):
    def name(self) -> str:
        return "action_answer_policy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        message = tracker.latest_message
        question = message.get("text") or ""
        regions = [e["value"] for e in message.get("entities", []) if e.get("entity") == "region"]
        region = regions[0] if regions else tracker.get_slot("region")
        try:
            hits = knowledge_base().search(question, top_k=3, region=region)
        except Exception:  # noqa: BLE001 - a broken index must not break the conversation
            logger.exception("Knowledge-base search failed")
            hits = []
        if hits:
            dispatcher.utter_message(text=answer_text(hits), buttons=FEEDBACK_BUTTONS)
            return [SlotSet("kb_answer", {"question": question, "doc_id": hits[0]["doc_id"]}),
                    SlotSet("confirm_ticket", False)]
        self._log_gap(tracker, question, region, _name(message.get("domain")))
        dom, sub = _name(message.get("domain")), _name(message.get("subtopic"))
        tax = taxonomy()
        if dom not in tax.domains or sub not in tax.subtopics or tax.domain_of(sub) != dom:
            dom, sub = "policy", "policy_consult"
        dispatcher.utter_message(
            text="抱歉，政策库里暂时没有能回答这个问题的文件，为避免给您不准确的答复，我不作猜测。"
                 "需要为您登记，请相关部门解答吗？也可以转人工服务。",
            buttons=NO_ANSWER_BUTTONS)
        demand = {"id": uuid.uuid4().hex, "text": question, "domain": dom, "subtopic": sub}
        return [SlotSet("kb_answer", None), SlotSet("demand", demand),
                SlotSet("ticket_number", None), SlotSet("confirm_ticket", True)]

    @staticmethod
    def _log_gap(tracker: Tracker, question: str, region: str | None,
                 domain_id: str | None) -> None:
        try:
            ticket_backend().kb_log.gap(question, sender_key(tracker), region, domain_id)
        except SQLAlchemyError as err:
            logger.warning("Knowledge gap not recorded: %s", type(err).__name__)


class ActionKbFeedback(Action):
    """"这个回答对您有帮助吗？" — stored per answer for the editors of the knowledge base."""

    def name(self) -> str:
        return "action_kb_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        answer = tracker.get_slot("kb_answer") or {}
        helpful = str(tracker.get_slot("helpful") or "").lower() in ("yes", "true", "1")
        if answer.get("doc_id"):
            try:
                ticket_backend().kb_log.feedback(answer.get("question", ""),
                                                        answer["doc_id"], helpful,
                                                        sender_key(tracker))
            except SQLAlchemyError as err:
                logger.warning("Knowledge-base feedback not recorded: %s", type(err).__name__)
        if helpful:
            dispatcher.utter_message(text="感谢您的反馈！还有其他问题随时问我。")
        else:
            dispatcher.utter_message(text="感谢反馈，我们会据此完善政策库。需要工作人员解答请回复"
                                          "“转人工”，也可以换个说法再问一次。")
        return [SlotSet("kb_answer", None), SlotSet("helpful", None)]
