"""Collecting what a department needs, the summary, and opening the ticket(s).

The ``ticket_form`` asks for the enterprise, its credit code, the county, the contact
and the mobile, then shows a summary (the ``ticket_confirmed`` question). Only an
explicit confirmation of the summary fills ``ticket_confirmed``; the form then ends and
``action_open_ticket`` writes one ticket per demand of the draft. What a reply means
at each step is decided here and in ``actions/forms.py``; docs/conversation.md tells
the user's side.
"""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.exc import SQLAlchemyError

from actions.backend import channel_of, database_call, sender_key, ticket_backend
from actions.forms import DIGRESSIONS, GuardedForm, latest_intent, left_form
from bot import dialogue
from bot.creditcode import is_valid_credit_code
from bot.entities import extract_entities, find_mobile
from bot.regions import region_table
from bot.taxonomy import taxonomy
from bot.text import normalize
from bot.tickets.model import Enterprise, InvalidTicket, NewTicket

logger = logging.getLogger(__name__)

NO_CODE = "无"  # the credit_code slot value when the user has none at hand
MAX_DEMANDS = 5
DETAIL_SLOTS = ("company", "credit_code", "region", "contact_name", "mobile")
#: what a finished or abandoned draft leaves behind (the enterprise details stay: they
#: are shown, and can be changed, in the next summary)
DRAFT_SLOTS = ("demand", "more_demands", "ticket_confirmed", "region_city", "region_options",
               "editing")
_CANCELLED = "好的，已取消登记，没有提交任何信息。如需再次反映，直接描述问题即可。"
_HINTS = {
    "company": "请发送企业全称（与营业执照一致），例如“龙游县恒丰纸业有限公司”。",
    "credit_code": "统一社会信用代码是营业执照上的18位代码（数字和大写字母）；没有的话回复“跳过”。",
    "region": "没有识别出浙江省内的县（市、区），请发送例如“龙游县”或“衢州市柯城区”。",
    "contact_name": "请告诉我联系人的姓名或称呼，例如“王经理”“李四”。",
    "mobile": "手机号码应为11位数字（以1开头），请重新发送。",
    "content": "请发送修改后的诉求内容。",
    "ticket_confirmed": "信息无误请回复“确认提交”；需要修改请点下方按钮，或直接说“手机号改成……”；"
                        "不登记了请回复“取消”。",
}
_NOT_CONFIRMED = "这条回复不是确认，诉求还没有提交。"
_KEEP = re.compile(r"^(?:不改|不用改|不修改|不换|还是原来|保持原|原来的就行|算了不改)")
_ASK_NEW = {"company": "请发送新的企业全称（与营业执照一致）。",
            "credit_code": "请发送统一社会信用代码（18位）。",
            "region": "请发送企业所在的县（市、区），例如“龙游县”。",
            "contact_name": "请发送新的联系人称呼，例如“王经理”。",
            "mobile": "请发送新的手机号码（11位）。",
            "content": "请发送修改后的诉求内容（将替换原来的内容）。"}
SURE = 0.8  # NLU confidence from which a short non-answer is taken as another request


_YES_WORDS = ("需要", "登记", "要的", "要登", "麻烦", "帮忙", "帮我", "好的", "可以", "行", "嗯",
              "对", "是的", "ok", "登")


def _is_yes(text: str) -> bool:
    """A yes to "需要登记吗？" — not a further description of the problem."""
    plain = dialogue.clean(text)
    if re.search(r"不需要|不用|不要|不对|不行|不是|别", plain):
        return False
    return dialogue.is_confirmation(text) or dialogue.wants_all(text) or plain in ("要", "要啊") \
        or (len(plain) <= 10 and any(w in plain for w in _YES_WORDS))


def demands_of(tracker: Tracker) -> list[dict[str, Any]]:
    """The draft's demands: the one acknowledged first, then any added."""
    first = tracker.get_slot("demand")
    return [d for d in [first, *(tracker.get_slot("more_demands") or [])] if d]


def demand_label(demand: dict[str, Any]) -> str:
    tax = taxonomy()
    if demand.get("domain") not in tax.domains:
        return "待确认"
    sub = demand.get("subtopic")
    if sub not in tax.subtopics or tax.domain_of(sub) != demand["domain"]:
        sub = None
    return tax.label(demand["domain"], sub)


def _check_code_region(code: str, county: str | None,
                       dispatcher: CollectingDispatcher) -> dict[str, Any]:
    """When the credit code was issued in another county (or city) than the one the user
    named, ask which is right: the region question then offers both."""
    table = region_table()
    issued, stated = table.registered_in(code), table.get(county or "")
    if issued is None or stated is None or stated.level != "county":
        return {}
    if issued.name == stated.name or (issued.level == "city" and issued.name == stated.city):
        return {}
    dispatcher.utter_message(text=f"统一社会信用代码显示企业在{issued.name}登记，与您说的{stated.name}"
                                  "不一致。工单按企业实际所在的县（市、区）分派，请确认：")
    options = [stated.name, *([issued.name] if issued.level == "county"
                              else dialogue.counties_of(issued.name))]
    return {"region": None, "region_options": options}


_LEGAL_FORM = re.compile(r"(?:有限责任公司|股份有限公司|有限公司|公司|合作社|厂|店|商行|经营部|"
                         r"工作室|事务所|研究院|酒店|民宿|饭店|餐馆|超市)$")


_NAME_LEAD = re.compile(r"^(?:我们|我司|本)?(?:公司|企业|单位|厂)?的?(?:全称|名称|名字)?"
                        r"(?:叫|是|为)?[:：\s]*")
_NOT_A_NAME = re.compile(r"催|评价|一下|看看|帮我|帮忙|能不能|可以|政策")
_NOT_A_BARE_NAME = re.compile(r"说|想|保密|难|事|问题|不|没|呢|了|吗|啊|怎|谁")


def _company_answer(text: str) -> str | None:
    """The enterprise's name from an answer to the company question, or None."""
    plain = normalize(text).text.strip().strip("。.!！")
    plain = re.split(r"[,，;；\n]", plain)[0].strip()  # details pasted after the name
    whole = _NAME_LEAD.sub("", plain)
    if _LEGAL_FORM.search(whole) and 4 <= len(whole) <= 40 and not re.search(r"\s", whole):
        return whole  # the whole answer is the name (the entity pattern stops at 和, 的 …)
    own = dialogue.own_company(plain)
    if own:
        return own
    companies = [e.value for e in extract_entities(plain) if e.entity == "company"]
    if companies:
        return companies[0]
    plain = whole.strip("：: ")  # without "我们公司叫", "企业全称是" …
    if not 2 <= len(plain) <= 50 or dialogue.is_question(plain):
        return None
    if not _LEGAL_FORM.search(plain) and (len(plain) <= 3 or _NOT_A_BARE_NAME.search(plain)):
        return None
    if plain.isdigit() or region_table().get(plain) or dialogue.contact_name(plain) == plain \
            or _is_yes(plain) or dialogue.is_skip(plain) or dialogue.is_hold(plain) \
            or text.startswith("/") or _NOT_A_NAME.search(plain):
        return None
    return plain


class ValidateTicketForm(GuardedForm):
    form_slots = ("ticket_confirmed", "region_city", "region_options", "demand", "more_demands")
    cancelled_text = _CANCELLED

    def name(self) -> str:
        return "validate_ticket_form"

    def restart_slots(self) -> tuple[str, ...]:
        return ("demand", "more_demands", *DETAIL_SLOTS)

    async def start(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                    domain: dict[str, Any]) -> list[EventType]:
        """The registration question was answered: with a yes the form asks on; a reply
        that only tells more ("主要是钱的问题") is added to the problem and the question
        is asked again — it is not taken for a yes."""
        text = tracker.latest_message.get("text") or ""
        demand = tracker.get_slot("demand")
        if text.startswith("/") or not demand or _is_yes(text):
            from actions.demand import profile_from_last_ticket

            return [*await super().start(dispatcher, tracker, domain),
                    SlotSet("confirm_ticket", False), *profile_from_last_ticket(tracker)]
        demand = {**demand, "text": f"{demand.get('text', '')}\n{normalize(text).text}"}
        dispatcher.utter_message(text="已补充到诉求内容。需要为您登记诉求并转交责任部门办理吗？",
                                 buttons=[{"title": "需要登记", "payload": "/affirm"},
                                          {"title": "不用了", "payload": "/deny"}])
        return [SlotSet("demand", demand), SlotSet("confirm_ticket", True),
                SlotSet("form_left", True), SlotSet("requested_slot", None), ActiveLoop(None)]

    async def answer(self, slot: str, text: str, dispatcher: CollectingDispatcher,
                     tracker: Tracker, domain: dict[str, Any]) -> dict[str, Any] | None:
        editing = tracker.get_slot("editing")
        if editing:  # the new value of a detail the user chose to change at the summary
            return self._changed(editing, text, dispatcher, tracker)
        edit = dialogue.parse_edit(text)
        if edit is not None:
            return self._apply_edit(edit, dispatcher, tracker)
        if slot == "ticket_confirmed":
            return {"ticket_confirmed": True} if dialogue.is_confirmation(text) else None
        value = self._value(slot, text, dispatcher, tracker)
        if value is None:
            return None
        extra = {k: v for k, v in self._extra(text, tracker).items() if k not in value}
        return {**value, **extra}

    def _changed(self, field: str, text: str, dispatcher: CollectingDispatcher,
                 tracker: Tracker) -> dict[str, Any] | None:
        """The answer to "请发送新的…": the new value, or "不改了" (the old one stays)."""
        if text.startswith("/") or dialogue.is_confirmation(text) or _KEEP.search(
                dialogue.clean(text)):
            return {"editing": None}
        value = self._value(field, text, dispatcher, tracker)
        if value is None:
            return None
        if field == "content":
            dispatcher.utter_message(text="已修改诉求内容。")
            return {"demand": value["demand"], "editing": None}
        if value.get(field) is None:  # a city: the form asks for its county next
            return {**value, "editing": None} if field == "region" else {}
        return {**self._announce(field, value, tracker, dispatcher), "editing": None}

    @staticmethod
    def _announce(field: str, value: dict[str, Any], tracker: Tracker,
                  dispatcher: CollectingDispatcher) -> dict[str, Any]:
        """Say what changed; another enterprise's credit code is asked for again."""
        shown = value[field] if value[field] != NO_CODE else "不提供"
        dispatcher.utter_message(text=f"已修改{dialogue.FIELD_NAMES[field]}：{shown}")
        code = tracker.get_slot("credit_code")
        if field == "company" and value[field] != tracker.get_slot("company") and code \
                and code != NO_CODE:
            return {**value, "credit_code": None}  # that code was the other enterprise's
        return value

    def _value(self, slot: str, text: str, dispatcher: CollectingDispatcher,
               tracker: Tracker) -> dict[str, Any] | None:
        """``{slot: value}`` for a valid answer, ``{slot: None}`` (with a reason uttered)
        for an answer meant for this question but invalid, None for no answer."""
        plain = normalize(text).text.strip()
        intent, confidence = latest_intent(tracker)
        if slot == "company":
            name = _company_answer(plain)
            if name and not _LEGAL_FORM.search(name) and (
                    intent in {"greet", "thank", "goodbye", "help"} and confidence > 0.7
                    and len(plain) <= 6 or intent in DIGRESSIONS and confidence >= SURE
                    and len(plain) > 10):
                return None  # "你好", or a sentence with another purpose, is no name
            return {"company": name} if name else None
        if slot == "credit_code":
            codes = [e.value for e in extract_entities(plain) if e.entity == "credit_code"]
            if codes and is_valid_credit_code(codes[0]):
                return {"credit_code": codes[0],
                        **_check_code_region(codes[0], tracker.get_slot("region"), dispatcher)}
            if codes or re.fullmatch(r"[0-9A-Za-z]{18}", plain):
                dispatcher.utter_message(text="这个统一社会信用代码校验未通过（第18位校验码不符），"
                                              "请核对营业执照后重新发送；没有的话回复“跳过”。")
                return {"credit_code": None}
            return {"credit_code": NO_CODE} if dialogue.is_skip(plain) else None
        if slot == "region":
            found = dialogue.stated_regions(plain)
            if not found:
                return None
            if found[0].level == "county":
                code = tracker.get_slot("credit_code")
                if code and code != NO_CODE and not tracker.get_slot("region_options"):
                    conflict = _check_code_region(code, found[0].name, dispatcher)
                    if conflict:
                        return conflict
                return {"region": found[0].name, "region_city": None, "region_options": None}
            if found[0].level == "city":
                return {"region": None, "region_city": found[0].name}
            dispatcher.utter_message(text="请告诉我具体的县（市、区），例如“龙游县”。")
            return {"region": None}
        if slot == "contact_name":
            mobile = find_mobile(plain)
            if mobile:  # "王经理 13905701234": the mobile is taken too (_extra)
                plain = re.sub(r"[\d\s-]{11,}", " ", plain).strip(" ,，")
            name = dialogue.contact_name(plain)
            if name is None and plain and len(plain) <= 20 and confidence < SURE and \
                    not dialogue.is_question(plain):
                # a place, a company, a code or a number where a name was asked
                dispatcher.utter_message(text=_HINTS["contact_name"])
                return {"contact_name": None}
            return {"contact_name": name} if name else None
        if slot == "mobile":
            mobile = find_mobile(plain)
            if mobile:
                return {"mobile": mobile}
            if sum(ch.isdigit() for ch in plain) >= 7:
                dispatcher.utter_message(text="请留11位手机号码（以1开头），便于承办部门联系您。")
                return {"mobile": None}
            return None
        if slot == "content":
            if len(plain) < 4:
                return None
            return {"demand": {**(tracker.get_slot("demand") or {}), "text": plain}}
        return None

    @staticmethod
    def _extra(text: str, tracker: Tracker) -> dict[str, Any]:
        """Details given along with the answer ("王经理 13905701234", or everything
        pasted with labels: "…，联系人孙明，手机139…，地区富阳区"), for empty slots."""
        plain = normalize(text).text
        extra: dict[str, Any] = {}
        mobile = find_mobile(plain)
        if mobile:
            extra["mobile"] = mobile
        codes = [e.value for e in extract_entities(plain) if e.entity == "credit_code"]
        if codes and is_valid_credit_code(codes[0]):
            extra["credit_code"] = codes[0]
        labelled = dialogue.labelled_fields(plain)
        if "credit_code" in labelled and dialogue.is_skip(labelled["credit_code"]):
            extra["credit_code"] = NO_CODE
        if "contact_name" in labelled and dialogue.contact_name(labelled["contact_name"]):
            extra["contact_name"] = dialogue.contact_name(labelled["contact_name"])
        regions = dialogue.stated_regions(labelled.get("region", ""))
        if regions and regions[0].level == "county":
            extra["region"] = regions[0].name
        return {k: v for k, v in extra.items() if not tracker.get_slot(k)}

    def _apply_edit(self, edit: dialogue.Edit, dispatcher: CollectingDispatcher,
                    tracker: Tracker) -> dict[str, Any]:
        if edit.field == "content_add":
            demand = dict(tracker.get_slot("demand") or {})
            demand["text"] = f"{demand.get('text', '')}\n补充：{edit.value}".strip()
            dispatcher.utter_message(text="已修改诉求内容：补充在原内容之后。")
            return {"demand": demand}
        if edit.value is None:  # "修改手机": at the summary the new value is asked for;
            if tracker.get_slot("requested_slot") == "ticket_confirmed" or \
                    edit.field == "content":
                return {"editing": edit.field}
            return {edit.field: None}  # earlier, the form asks for it in its turn
        value = self._value(edit.field, edit.value, dispatcher, tracker)
        if value is None:
            dispatcher.utter_message(text=_HINTS[edit.field])
            return {}
        if edit.field == "content":
            dispatcher.utter_message(text="已修改诉求内容。")
            return {"demand": value["demand"]}
        if value.get(edit.field) is None:
            return value
        return self._announce(edit.field, value, tracker, dispatcher)

    def hint(self, slot: str, tracker: Tracker) -> str:
        if slot == "ticket_confirmed":  # the summary, asked again, says what to do
            return _NOT_CONFIRMED
        return _HINTS.get(slot, super().hint(slot, tracker))

    async def new_problem(self, dispatcher: CollectingDispatcher,
                          tracker: Tracker) -> list[EventType] | None:
        """Another problem while the details are collected: a further item of the draft."""
        from bot.parsing import label_name

        message = tracker.latest_message
        dom, sub = label_name(message.get("domain")), label_name(message.get("subtopic"))
        sure = float((message.get("domain") or {}).get("confidence") or 0.0) >= 0.5
        if dom not in taxonomy().domains or not sure or \
                len(dialogue.clean(message.get("text") or "")) < 8:
            return None
        demands = demands_of(tracker)
        if len(demands) >= MAX_DEMANDS:
            dispatcher.utter_message(text="本次登记的诉求已较多，这个问题请在提交后再单独反映。")
            return []
        new = {"text": message.get("text") or "", "domain": dom, "subtopic": sub}
        more = [*(tracker.get_slot("more_demands") or []), new]
        dispatcher.utter_message(text=f"已把这个问题（{demand_label(new)}）作为第{len(demands) + 1}"
                                      "项诉求加入本次登记，提交时单独成一件工单。")
        return [SlotSet("more_demands", more)]


class ActionAskRegion(Action):
    """The county question: the counties of a known city as buttons, or the county in
    the enterprise's name as a one-tap answer."""

    def name(self) -> str:
        return "action_ask_region"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        options = tracker.get_slot("region_options")
        if options:
            dispatcher.utter_message(text="企业实际位于哪个县（市、区）？",
                                     buttons=[{"title": c, "payload": c} for c in options])
            return []
        city = tracker.get_slot("region_city")
        if city:
            counties = dialogue.counties_of(city)
            dispatcher.utter_message(
                text=f"{city}下辖以下县（市、区），企业在哪一个？工单按县级部门分派。",
                buttons=[{"title": c, "payload": c} for c in counties])
            return []
        hinted = dialogue.region_in_company(tracker.get_slot("company") or "")
        if hinted:
            dispatcher.utter_message(text="企业位于哪个县（市、区）？",
                                     buttons=[{"title": hinted.name, "payload": hinted.name}])
            return []
        dispatcher.utter_message(response="utter_ask_region")
        return []


def summary_text(tracker: Tracker) -> str:
    s = tracker.slots
    lines = ["请核对以下信息：", f"企业：{s.get('company')}"]
    if s.get("credit_code") and s["credit_code"] != NO_CODE:
        lines.append(f"统一社会信用代码：{s['credit_code']}")
    lines += [f"所在地区：{s.get('region')}", f"联系人：{s.get('contact_name')}",
              f"手机：{s.get('mobile')}"]
    demands = demands_of(tracker)
    if len(demands) == 1:
        lines += [f"诉求领域：{demand_label(demands[0])}",
                  f"诉求内容：{_short(demands[0].get('text'))}"]
    else:
        lines.append(f"诉求（{len(demands)}项，每项单独成一件工单）：")
        lines += [f"{i}. {demand_label(d)}：{_short(d.get('text'), 60)}"
                  for i, d in enumerate(demands, start=1)]
    lines.append(_HINTS["ticket_confirmed"])
    return "\n".join(lines)


def _short(text: str | None, limit: int = 100) -> str:
    text = (text or "").replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "……"


SUMMARY_BUTTONS = [{"title": "确认提交", "payload": "/affirm"},
                   *({"title": t, "payload": t} for t in dialogue.EDIT_BUTTONS),
                   {"title": "取消", "payload": "取消"}]


class ActionAskTicketConfirmed(Action):
    """The summary (or, after 修改…, the question for the new value)."""

    def name(self) -> str:
        return "action_ask_ticket_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        editing = tracker.get_slot("editing")
        if editing in _ASK_NEW:
            dispatcher.utter_message(text=f"{_ASK_NEW[editing]}不改了请回复“不改了”。")
            return []
        buttons = SUMMARY_BUTTONS if len(demands_of(tracker)) == 1 else [
            b for b in SUMMARY_BUTTONS if b["title"] != "修改内容"]
        dispatcher.utter_message(text=summary_text(tracker), buttons=buttons)
        return []


class ActionOpenTicket(Action):
    """Open one ticket per demand once the user confirmed the summary.

    Runs after the ticket form ends; does nothing when the user left the form. Idempotent:
    each request key is the sender plus the demand's id, so a retried action call
    returns the first outcome. When the database is down the requests go to the outbox
    and are registered when it is back (the user is told).
    """

    def name(self) -> str:
        return "action_open_ticket"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        asked_again = SlotSet("confirm_ticket", bool(tracker.get_slot("confirm_ticket")))
        done = [*(SlotSet(s, None) for s in (*DRAFT_SLOTS, "form_left")), asked_again]
        if left_form(tracker) or tracker.get_slot("ticket_confirmed") is not True:
            # left, or more detail before a yes (the registration question is asked again)
            return [SlotSet("ticket_confirmed", None), SlotSet("form_left", None), asked_again]
        demands = demands_of(tracker)
        if not demands:
            dispatcher.utter_message(text="诉求信息不完整，暂时无法登记。请重新描述遇到的问题，"
                                          "或回复“转人工”。")
            return done
        base = tracker.get_slot("demand") or {}
        base_id = base.get("id") or uuid.uuid4().hex
        replies, numbers = [], []
        for i, demand in enumerate(demands):
            key = f"{sender_key(tracker)}:{base_id}" + (f":{i}" if i else "")
            reply, number = await database_call(self._open, tracker, demand, key)
            if reply is None:
                dispatcher.utter_message(text="诉求信息不完整，暂时无法登记。请核对后重新描述问题，"
                                              "或回复“转人工”。")
                return [SlotSet("ticket_confirmed", None), asked_again]
            replies.append(reply)
            numbers.append(number)
        head = f"已受理{len(demands)}件诉求：\n\n" if len(demands) > 1 else ""
        dispatcher.utter_message(text=head + "\n\n".join(replies))
        last = next((n for n in reversed(numbers) if n), None)
        return [*done, SlotSet("ticket_number", last)]

    @staticmethod
    def _open(tracker: Tracker, demand: dict[str, Any], key: str) -> tuple[str | None,
                                                                           str | None]:
        slots = tracker.slots
        code = slots.get("credit_code")
        code = code if code and code != NO_CODE else None
        sender, channel = sender_key(tracker), channel_of(tracker)
        new = NewTicket(
            enterprise=Enterprise(slots.get("company") or "", code,
                                  slots.get("contact_name"), slots.get("mobile")),
            region=slots.get("region") or "", domain=demand.get("domain") or "",
            subtopic=demand.get("subtopic") or "", text=demand.get("text") or "",
            channel=channel, sender_id=sender, conversation_id=tracker.sender_id)
        backend = ticket_backend()
        try:
            opened = backend.service.open(new, actor=sender, request_key=key)
        except InvalidTicket as err:
            logger.warning("Ticket not opened: %s", err)
            return None, None
        except SQLAlchemyError as err:
            logger.error("Ticket database unavailable (%s); request %s kept in the outbox.",
                         type(err).__name__, key)
            backend.outbox.put(new, sender, key)
            return ("您的诉求已保存。工单系统正在维护，恢复后会自动登记并把工单号发给您，"
                    "无需重复提交。"), None
        t = opened.ticket
        label = taxonomy().label(t.domain, t.subtopic)
        if opened.duplicate:
            return (f"您在30天内已反映过同类问题（工单号：{t.number}，{label}），本次内容已补充到"
                    f"该工单，承办部门：{t.department or '待分派'}。"), t.number
        due = f"，将于{t.first_response_due:%Y年%m月%d日}前首次联系您" \
            if t.first_response_due else ""
        return (f"已受理，工单号：{t.number}\n领域：{label}\n承办部门：{t.department}{due}。\n"
                "可随时发送工单号查询进度。"), t.number
