"""Policy questions answered from the knowledge base, with the passage and its citation —
or an honest "the knowledge base has no answer" and the offer of a ticket."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.backend import database_call, log_demand, sender_key, ticket_backend
from actions.demand import VAGUE_QUESTION, stated_details
from actions.forms import GuardedForm, left_form
from actions.profile import after_matching
from actions.services import services
from bot.dialogue import counties_of, demand_segments, is_question, stated_regions
from bot.entities import money_to_yuan
from bot.kb.index import KnowledgeBase
from bot.kb.matching import SIZE_NAMES, Profile, match_policies, qualifications_in
from bot.parsing import label_name
from bot.proactive.delivery import mark_asked
from bot.taxonomy import taxonomy
from bot.text import normalize

logger = logging.getLogger(__name__)

CONFIDENT = 0.6  # below: "may be related", not "according to" (docs/knowledge_base.md)
RELATED_SCORE = 0.8  # a related document scores this share of the answer's score at least
RELATED_COVERAGE = 0.5  # ...and its passage holds this share of the question's words
FOLLOW_UP_TURNS = 4  # a question within this many turns of an answer may follow it up
STALE_NOTICE = 0.25  # below the answer check's threshold, a stale document is still named
FEEDBACK_BUTTONS = [{"title": "有帮助", "payload": '/kb_feedback{"helpful":"yes"}'},
                    {"title": "没帮助", "payload": '/kb_feedback{"helpful":"no"}'}]
NO_ANSWER_BUTTONS = [{"title": "需要登记", "payload": "/affirm"},
                     {"title": "转人工", "payload": "/request_human"},
                     {"title": "不用了", "payload": "/deny"}]


def knowledge_base() -> KnowledgeBase:
    """The process's knowledge base (``actions.services``)."""
    return services().knowledge_base()


def citation(hit: dict[str, Any]) -> str:
    parts = [p for p in (hit.get("doc_no"), hit.get("issuer"), hit.get("date")) if p]
    return f"《{hit['title']}》" + (f"（{'，'.join(parts)}）" if parts else "")


def related(hits: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Other documents worth naming under the answer: close in score to it, holding most
    of the question's words, and not the answered document itself."""
    top = hits[0]
    return [h for h in hits[1:3] if h["doc_id"] != top["doc_id"] and h.get("confidence", 1) > 0
            and h["score"] >= RELATED_SCORE * top["score"] and h["coverage"] >= RELATED_COVERAGE]


def currency_notice(hit: dict[str, Any]) -> str | None:
    """A replaced or expired document says so, naming its successor when known."""
    successor = hit.get("successor")
    if successor:
        number = f"（{successor['doc_no']}）" if successor.get("doc_no") else ""
        return (f"注意：该文件已被《{successor['title']}》{number}取代，以下为原文件内容，"
                "仅供了解，请以新文件为准。")
    if hit.get("superseded_by"):
        return "注意：该文件已被新文件取代，以下内容仅供了解，请向主管部门确认现行规定。"
    if hit.get("expired"):
        return (f"注意：该文件已于{hit['valid_until']}到期，以下内容仅供了解，不代表现行政策，"
                "请向主管部门确认最新规定。")
    return None


def answer_text(hits: list[dict[str, Any]]) -> str:
    """The shown answer: the sentences that answer the question (``hit["answer"]``, the
    same text ``govbot kb search`` gives), with the citation and the link."""
    top = hits[0]
    lines = [notice] if (notice := currency_notice(top)) else []
    if top.get("confidence", 1) >= CONFIDENT:
        lines.append(f"根据{citation(top)}“{top['section']}”：")
    else:
        lines.append(f"没有找到完全对应的答案，以下内容可能相关——{citation(top)}“{top['section']}”：")
    lines.append(top["answer"])
    if top.get("url"):
        lines.append(f"原文：{top['url']}")
    if others := related(hits):
        lines.append("相关文件：")
        lines += [f"· {citation(h)}" + ("（已到期）" if h["expired"] else "") for h in others]
    lines.append("以上内容摘自政策原文，具体以主管部门解释为准。这个回答对您有帮助吗？")
    return "\n".join(lines)


def stale_policy(question: str, region: str | None) -> dict[str, Any] | None:
    """When no answer is shown: the expired or replaced document the question is most
    likely about (its answer too unsure to quote, but close enough to name), else None."""
    try:
        hits = knowledge_base().search(question, top_k=1, region=region, refuse=False)
    except Exception:  # noqa: BLE001 - a broken index must not break the conversation
        logger.exception("Knowledge-base search failed")
        return None
    top = hits[0] if hits else None
    if top and (top["expired"] or top.get("superseded_by")) and \
            top.get("confidence", 0) >= STALE_NOTICE:
        return top
    return None


def topic_of(tracker: Tracker) -> dict[str, str] | None:
    """The policy answered in the last few turns, for follow-up questions."""
    topic = tracker.get_slot("policy_topic")
    if not isinstance(topic, dict) or not topic.get("doc_id"):
        return None
    return topic if user_turns(tracker) - int(topic.get("turn", 0)) <= FOLLOW_UP_TURNS else None


def user_turns(tracker: Tracker) -> int:
    return sum(e.get("event") == "user" for e in tracker.events)


def answered(tracker: Tracker, question: str, hits: list[dict[str, Any]]) -> list[EventType]:
    """The slots that remember a shown answer: for the feedback and for follow-ups."""
    top = hits[0]
    # a follow-up keeps the question that named the topic ("那小微企业呢" names none)
    before = topic_of(tracker) if top.get("follow_up") else None
    topic_question = f"{before['question']} {question}" if before else question
    return [SlotSet("kb_answer", {"question": question, "doc_id": top["doc_id"]}),
            SlotSet("policy_topic", {"doc_id": top["doc_id"], "question": topic_question[-200:],
                                     "turn": user_turns(tracker)})]


async def note_asked_after_notice(tracker: Tracker) -> None:
    """A question asked while a policy notice is the topic: the enterprise asked about
    what it was told (the reach figures); never fails the turn."""
    topic = topic_of(tracker)
    if not topic or not topic.get("notice"):
        return
    try:
        await database_call(mark_asked, ticket_backend().engine, tracker.sender_id,
                            topic["doc_id"])
    except SQLAlchemyError as err:
        logger.warning("Question after a notice not recorded: %s", type(err).__name__)


def search(tracker: Tracker, question: str, region: str | None) -> list[dict[str, Any]]:
    try:
        return knowledge_base().search(question, top_k=3, region=region,
                                       after=topic_of(tracker))
    except Exception:  # noqa: BLE001 - a broken index must not break the conversation
        logger.exception("Knowledge-base search failed")
        return []


def answer_in_passing(dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
    """A policy question asked while a form is active: the answer, no ticket offer."""
    message = tracker.latest_message
    question = message.get("text") or ""
    hits = search(tracker, question, tracker.get_slot("region"))
    if not hits:
        dispatcher.utter_message(text="抱歉，政策库里暂时没有能回答这个问题的文件。当前操作完成后，"
                                      "可以把这个问题作为诉求登记，或回复“转人工”。")
        return []
    dispatcher.utter_message(text=answer_text(hits), buttons=FEEDBACK_BUTTONS)
    return answered(tracker, question, hits)


UNSURE_OFFER = "如果没有回答您的问题，需要为您登记，请相关部门解答吗？"


_ENUMERATION = re.compile(
    r"一是.+二是|第一[，,、].+第二[，,、]|其一.+其二|1[.、．)）].+2[.、．)）]", re.S)


def listed_demands(text: str) -> bool:
    """"一是…二是…": a message that enumerates several demands (not "第二年", "第二批")."""
    return _ENUMERATION.search(text) is not None and len(demand_segments(text)) >= 2


def after_vague_opener(tracker: Tracker) -> bool:
    """Whether the assistant just asked which area a vague opener is about."""
    demand = tracker.get_slot("demand")
    if not demand or demand.get("domain"):
        return False
    said = [e for e in tracker.events if e.get("event") in ("bot", "user")]
    return len(said) >= 2 and said[-2].get("event") == "bot" and \
        said[-2].get("text") == VAGUE_QUESTION


class ActionAnswerPolicy(Action):
    def name(self) -> str:
        return "action_answer_policy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        message = tracker.latest_message
        question = message.get("text") or ""
        if after_vague_opener(tracker) or listed_demands(question):
            # the answer to "请问主要是哪方面的问题？" describes the problem, even as a
            # question; "一是…二是…" lists demands to register
            return [SlotSet("confirm_ticket", False), FollowupAction("action_acknowledge_demand")]
        await log_demand(tracker)
        regions = [r.name for r in stated_regions(question) if r.level != "province"]
        region = regions[0] if regions else tracker.get_slot("region")
        hits = search(tracker, question, region)
        await note_asked_after_notice(tracker)
        dom, sub = label_name(message.get("domain")), label_name(message.get("subtopic"))
        tax = taxonomy()
        if dom not in tax.domains or sub not in tax.subtopics or tax.domain_of(sub) != dom:
            dom, sub = "policy", "policy_consult"
        if hits and hits[0].get("confidence", 1) >= CONFIDENT:
            dispatcher.utter_message(text=answer_text(hits), buttons=FEEDBACK_BUTTONS)
            return [*answered(tracker, question, hits), SlotSet("confirm_ticket", False)]
        # the question may be registered: what it states about the enterprise is kept
        demand = {"id": uuid.uuid4().hex, "text": question, "domain": dom, "subtopic": sub}
        offer = [SlotSet("demand", demand), SlotSet("more_demands", None),
                 SlotSet("ticket_number", None), SlotSet("ticket_confirmed", None),
                 SlotSet("confirm_ticket", True),
                 *(SlotSet(k, v) for k, v in stated_details(question, tracker).items())]
        if hits:  # only "may be related": the department can answer the very question
            dispatcher.utter_message(text=answer_text(hits) + "\n" + UNSURE_OFFER,
                                     buttons=[*FEEDBACK_BUTTONS, NO_ANSWER_BUTTONS[0]])
            return [*answered(tracker, question, hits), *offer]
        self._log_gap(tracker, question, region, label_name(message.get("domain")))
        stale = stale_policy(question, region)
        if stale is not None:  # about a policy that ended: say so, quote none of its figures
            dispatcher.utter_message(
                text=f"{currency_notice(stale)}\n您问的可能是{citation(stale)}的规定。该文件不代表"
                     "现行政策，为避免给您不准确的答复，这里不引用其中的标准。需要为您登记，请相关部门"
                     "解答现行规定吗？也可以转人工服务。", buttons=NO_ANSWER_BUTTONS)
            return [SlotSet("kb_answer", None), *offer]
        dispatcher.utter_message(
            text="抱歉，政策库里暂时没有能回答这个问题的文件，为避免给您不准确的答复，我不作猜测。"
                 "需要为您登记，请相关部门解答吗？也可以转人工服务。",
            buttons=NO_ANSWER_BUTTONS)
        return [SlotSet("kb_answer", None), *offer]

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


# -- 政策直达: policies the enterprise may be eligible for -----------------------------------
_SIZE_WORDS = (("微型", "micro"), ("小微", "small"), ("小型", "small"), ("中型", "medium"),
               ("大型", "large"), ("小企业", "small"), ("中小", "small"), ("个体", "micro"),
               ("规上", "medium"))
_NONE_WORDS = ("无", "没有", "都没", "暂无", "不是", "还没")


def size_in(text: str) -> str | None:
    """micro / small / medium / large from words or a head count; 'unknown' if not known."""
    text = normalize(text).text
    if any(w in text for w in ("不清楚", "不知道", "不确定", "跳过")):
        return "unknown"
    for word, size in _SIZE_WORDS:
        if word in text:
            return size
    if m := re.search(r"(\d+)\s*(?:个人|人|名)", text):
        people = int(m.group(1))
        # the industrial thresholds of the 2011 SME classification (工信部联企业〔2011〕300号)
        return ("micro" if people < 20 else "small" if people < 300 else
                "medium" if people < 1000 else "large")
    return None


def _offer(doc: dict[str, Any]) -> str:
    """"《title》（doc no）：what it grants，申请截止 / 政策执行至 date" — as far as known."""
    until = (f"，申请截止{doc['apply_by']}" if doc.get("apply_by") else
             f"，政策执行至{doc['valid_until']}" if doc.get("valid_until") else "")
    return f"《{doc['title']}》（{doc.get('doc_no') or doc['id']}）：{doc['benefit']}{until}"


class ValidateProfileForm(GuardedForm):
    form_slots = ("enterprise_size", "qualifications")
    cancelled_text = "好的，已停止政策匹配，没有保存任何信息。想了解具体政策，直接问我即可。"

    def name(self) -> str:
        return "validate_profile_form"

    async def answer(self, slot: str, text: str, dispatcher: CollectingDispatcher,
                     tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any] | None:
        text = normalize(text).text
        negated = re.match(r"(?:还)?(?:不是|没有|没|无)", text) is not None
        if slot == "qualifications" and (negated or text in _NONE_WORDS) and len(text) <= 12:
            return {"qualifications": "无"}  # "不是高新企业", "没有什么资格"
        if is_question(text):
            return None  # a question: answered as one, then the question is asked again
        if slot == "region":
            found = [r for r in stated_regions(text) if r.level != "province"]
            if found and found[0].level == "city":  # policies are county by county
                dispatcher.utter_message(text=f"请具体到{found[0].name}下的县（市、区），例如"
                                              f"“{counties_of(found[0].name)[0]}”。")
                return {"region": None}
            return {"region": found[0].name} if found else None
        if slot == "enterprise_size":
            size = None if negated else size_in(text)
            return {"enterprise_size": size} if size else None
        found = qualifications_in(text)
        return {"qualifications": "、".join(sorted(found))} if found else None

    def hint(self, slot: str, tracker: Tracker) -> str:
        return {
            "region": "没有识别出浙江省内的县（市、区），请发送例如“龙游县”。",
            "enterprise_size": "请回复“微型”“小型”“中型”或“大型”，或者员工人数（如“50人”）；"
                               "不清楚请回复“不清楚”。",
        }.get(slot, "没有识别出资格名称。请回复例如“高新技术企业”“专精特新”“规上工业企业”，"
                    "都没有请回复“无”。")


class ActionMatchPolicies(Action):
    def name(self) -> str:
        return "action_match_policies"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        if left_form(tracker):
            return [SlotSet("form_left", None), SlotSet("profile_save_pending", False)]
        size = tracker.get_slot("enterprise_size")
        quals = tracker.get_slot("qualifications") or ""
        amounts = [money_to_yuan(e["value"]) for e in tracker.latest_message.get("entities", [])
                   if e.get("entity") == "amount"]
        profile = Profile(region=tracker.get_slot("region"),
                          size=size if size in SIZE_NAMES else None,
                          qualifications=qualifications_in(quals),
                          rd_expense=next((a for a in amounts if a), None))
        try:
            matches = match_policies(knowledge_base().documents(), profile)
        except Exception:  # noqa: BLE001 - a broken index must not break the conversation
            logger.exception("Policy matching failed")
            matches = []
        reset = [SlotSet("enterprise_size", None), SlotSet("qualifications", None)]
        if not matches:
            dispatcher.utter_message(text="政策库中暂时没有与贵企业条件对应的政策。可以直接描述想了解的"
                                          "政策问题，或回复“转人工”。")
            return reset + await after_matching(dispatcher, tracker, profile)
        eligible = [m for m in matches if m.eligible][:8]
        to_check = [m for m in matches if not m.eligible and not m.missing][:3]
        close = [m for m in matches if len(m.missing) == 1][:3]
        lines = [f"根据贵企业情况（{profile.region or '地区未知'}，"
                 f"{SIZE_NAMES.get(profile.size or '', '规模未知')}企业，"
                 f"资格：{'、'.join(sorted(profile.qualifications)) or '无'}），政策库中："]
        if eligible:
            lines.append("【条件已满足，可以申请】")
            lines += [f"· {_offer(m.doc)}" for m in eligible]
        if to_check:
            lines.append("【可能适用，需确认】")
            lines += [f"· {_offer(m.doc)}——需确认：{'；'.join(m.unknown)}" for m in to_check]
        if close:
            lines.append("【还差一项条件】")
            lines += [f"· {_offer(m.doc)}——缺少：{'；'.join(m.missing)}" for m in close]
        lines.append("以上为根据政策文件条件的初步匹配，具体以主管部门审核为准。想了解某项政策的细节，"
                     "直接问我即可。")
        dispatcher.utter_message(text="\n".join(lines))
        return reset + await after_matching(dispatcher, tracker, profile)
