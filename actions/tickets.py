"""Collecting what a department needs and opening the ticket (the ``ticket_form``)."""

from __future__ import annotations

import logging
import uuid
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.backend import channel_of, sender_key, ticket_backend
from bot.creditcode import is_valid_credit_code
from bot.entities import extract_entities, find_mobile
from bot.regions import region_table
from bot.taxonomy import taxonomy
from bot.text import normalize
from bot.tickets.model import Enterprise, InvalidTicket, NewTicket

logger = logging.getLogger(__name__)


NO_CODE_WORDS = ("没有", "无", "不知道", "不清楚", "跳过", "暂无", "不提供", "忘了", "记不得",
                 "不用", "不要", "不")
CANCEL_WORDS = ("取消", "算了", "不登记", "不办了")
NO_CODE = "无"  # the credit_code slot value when the user has none at hand


def region_answer(value: Any, dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """A county (or city) of Zhejiang from the user's answer, or a message saying what
    is expected (shared by the forms that ask for the region)."""
    text = normalize(str(value or "")).text
    found = [r for _, _, r in region_table().find(text)]
    counties = [r for r in found if r.level == "county"]
    region = (counties or [r for r in found if r.level == "city"] or [None])[0]
    if region is None:
        dispatcher.utter_message(text="没有识别出浙江省内的县（市、区），请发送例如“龙游县”或“衢州市柯城区”。")
        return {"region": None}
    return {"region": region.name}


class ValidateTicketForm(FormValidationAction):
    def name(self) -> str:
        return "validate_ticket_form"

    async def validate_company(self, value: Any, dispatcher: CollectingDispatcher,
                               tracker: Tracker, domain: dict) -> dict[str, Any]:
        text = normalize(str(value or "")).text
        companies = [e.value for e in extract_entities(text) if e.entity == "company"]
        name = companies[0] if companies else text
        if not 2 <= len(name) <= 100:
            dispatcher.utter_message(text="企业名称应为2到100个字，请发送企业全称。")
            return {"company": None}
        return {"company": name}

    async def validate_credit_code(self, value: Any, dispatcher: CollectingDispatcher,
                                   tracker: Tracker, domain: dict) -> dict[str, Any]:
        text = normalize(str(value or "")).text.strip()
        codes = [e.value for e in extract_entities(text) if e.entity == "credit_code"]
        if codes and is_valid_credit_code(codes[0]):
            return {"credit_code": codes[0]}
        if codes or (len(text) == 18 and text.isalnum()):
            dispatcher.utter_message(text="这个统一社会信用代码校验未通过（第18位校验码不符），"
                                          "请核对营业执照后重新发送；没有的话回复“跳过”。")
            return {"credit_code": None}
        if any(w in text for w in CANCEL_WORDS):  # "deny" is an answer here, not a cancel
            dispatcher.utter_message(text="好的，先不填统一社会信用代码。如要取消本次登记，"
                                          "请回复“取消”。")
            return {"credit_code": NO_CODE}
        if text == NO_CODE or any(w in text for w in NO_CODE_WORDS):
            return {"credit_code": NO_CODE}
        dispatcher.utter_message(text="统一社会信用代码是营业执照上的18位代码（数字和大写字母），"
                                      "请重新发送；没有的话回复“跳过”。")
        return {"credit_code": None}

    async def validate_region(self, value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: dict) -> dict[str, Any]:
        return region_answer(value, dispatcher)

    async def validate_contact_name(self, value: Any, dispatcher: CollectingDispatcher,
                                    tracker: Tracker, domain: dict) -> dict[str, Any]:
        name = normalize(str(value or "")).text
        if not 1 <= len(name) <= 30:
            dispatcher.utter_message(text="联系人称呼请控制在30个字以内，例如“王经理”。")
            return {"contact_name": None}
        return {"contact_name": name}

    async def validate_mobile(self, value: Any, dispatcher: CollectingDispatcher,
                              tracker: Tracker, domain: dict) -> dict[str, Any]:
        mobile = find_mobile(normalize(str(value or "")).text)
        if mobile is None:
            dispatcher.utter_message(text="手机号码应为11位数字（以1开头），请重新发送。")
            return {"mobile": None}
        return {"mobile": mobile}


class ActionTicketSummary(Action):
    """Show what will be submitted; the ticket is opened only after "yes"."""

    def name(self) -> str:
        return "action_ticket_summary"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        s = tracker.slots
        demand = s.get("demand") or {}
        tax = taxonomy()
        label = (tax.label(demand["domain"], demand.get("subtopic"))
                 if demand.get("domain") in tax.domains else "待确认")
        lines = ["请确认以下信息：", f"企业：{s.get('company')}"]
        if s.get("credit_code") and s["credit_code"] != NO_CODE:
            lines.append(f"统一社会信用代码：{s['credit_code']}")
        lines += [f"所在地区：{s.get('region')}", f"联系人：{s.get('contact_name')}",
                  f"手机：{s.get('mobile')}", f"诉求领域：{label}",
                  f"诉求内容：{(demand.get('text') or '')[:100]}", "确认提交吗？"]
        dispatcher.utter_message(text="\n".join(lines), buttons=[
            {"title": "确认提交", "payload": "/affirm"}, {"title": "取消", "payload": "/deny"}])
        return [SlotSet("confirm_submit", True)]


class ActionOpenTicket(Action):
    """Open the ticket once the user confirmed the summary.

    Idempotent: the request key is the sender plus the demand's id, so a retried action
    call or a second "yes" returns the first outcome. When the database is down the
    request goes to the outbox and is registered when it is back (the user is told).
    """

    def name(self) -> str:
        return "action_open_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        done = SlotSet("confirm_submit", False)  # the confirmation is used up on every path
        slots = tracker.slots
        demand = slots.get("demand") or {}
        code = slots.get("credit_code")
        code = code if code and code != NO_CODE else None
        sender, channel = sender_key(tracker), channel_of(tracker)
        new = NewTicket(
            enterprise=Enterprise(slots.get("company") or "", code,
                                  slots.get("contact_name"), slots.get("mobile")),
            region=slots.get("region") or "", domain=demand.get("domain") or "",
            subtopic=demand.get("subtopic") or "", text=demand.get("text") or "",
            channel=channel, sender_id=sender, conversation_id=tracker.sender_id)
        key = f"{sender}:{demand['id']}" if demand.get("id") else None
        backend = ticket_backend()
        try:
            opened = backend.service.open(new, actor=sender, request_key=key)
        except InvalidTicket as err:
            logger.warning("Ticket not opened: %s", err)
            if code and "GB 32100" in str(err):
                dispatcher.utter_message(text="统一社会信用代码校验未通过，请核对后重新描述问题，"
                                              "或不提供代码直接登记。")
                return [SlotSet("credit_code", None), done]
            dispatcher.utter_message(text="诉求信息不完整，暂时无法登记。请重新描述遇到的问题，"
                                          "或回复“转人工”。")
            return [done]
        except SQLAlchemyError as err:
            logger.error("Ticket database unavailable (%s); request %s kept in the outbox.",
                         type(err).__name__, key)
            backend.outbox.put(new, sender, key or f"{sender}:{uuid.uuid4().hex}")
            dispatcher.utter_message(text="您的诉求已保存。工单系统正在维护，恢复后会自动登记并"
                                          "把工单号发给您，无需重复提交。")
            return [SlotSet("demand", None), done]
        t = opened.ticket
        label = taxonomy().label(t.domain, t.subtopic)
        if opened.duplicate:
            dispatcher.utter_message(text=(
                f"您在30天内已反映过同类问题（工单号：{t.number}，{label}），本次内容已补充到"
                f"该工单，承办部门：{t.department or '待分派'}。"))
        else:
            due = f"，将于{t.first_response_due:%Y年%m月%d日}前首次联系您" \
                if t.first_response_due else ""
            dispatcher.utter_message(text=(
                f"已受理，工单号：{t.number}\n领域：{label}\n承办部门：{t.department}{due}。\n"
                "可随时发送工单号查询进度。"))
        return [SlotSet("ticket_number", t.number), SlotSet("demand", None), done]
