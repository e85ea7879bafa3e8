"""What a reply means inside a form (actions/forms.py, actions/tickets.py), run without a
server: a tracker whose latest user message filled the requested slot with its text, as
Rasa's slot mapping does, and a collecting dispatcher."""

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.rating import ValidateRatingForm
from actions.tickets import ValidateTicketForm

DETAILS = {"company": "龙游县恒丰纸业有限公司", "credit_code": "无", "region": "龙游县",
           "contact_name": "王经理", "mobile": "13905701234"}
DEMAND = {"id": "d1", "text": "过桥资金到期", "domain": "finance", "subtopic": "bridge_loan"}


def form_tracker(text, requested, slots=None, intent="out_of_scope", confidence=0.9,
                 loop="ticket_form"):
    """The tracker the validation action receives: the mapping put ``text`` into the
    requested slot after the user's message."""
    slots = {**(slots or {}), "requested_slot": requested, requested: text}
    events = [{"event": "user", "text": text,
               "parse_data": {"intent": {"name": intent, "confidence": confidence}}},
              {"event": "slot", "name": requested, "value": text}]
    return Tracker.from_dict({
        "sender_id": "u-form", "slots": slots, "events": events, "paused": False,
        "latest_message": {"text": text, "intent": {"name": intent, "confidence": confidence},
                           "entities": []},
        "followup_action": None, "active_loop": {"name": loop}, "latest_action_name": None})


async def reply(text, requested, slots=None, form=ValidateTicketForm, **kw):
    dispatcher = CollectingDispatcher()
    events = await form().run(dispatcher, form_tracker(text, requested, slots, **kw), {})
    said = "\n".join(m.get("text") or m.get("response") or "" for m in dispatcher.messages)
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}, events, said


def ended(events):
    return any(e["event"] == "active_loop" and e["name"] is None for e in events)


@pytest.mark.parametrize("text", ["刘芳", "13905701234", "主要是钱的问题", "嗯嗯", "我的工单怎么样了"])
async def test_nothing_but_a_confirmation_submits(text):
    slots, events, _ = await reply(text, "ticket_confirmed", {**DETAILS, "demand": DEMAND},
                                   intent="affirm", confidence=0.46)
    assert slots["ticket_confirmed"] is None and not ended(events)


@pytest.mark.parametrize("text", ["确认提交", "確認提交", "对的", "没问题，提交吧", "/affirm", "OK"])
async def test_confirmation_words_submit(text):
    slots, _, _ = await reply(text, "ticket_confirmed", {**DETAILS, "demand": DEMAND})
    assert slots["ticket_confirmed"] is True


@pytest.mark.parametrize("requested", ["company", "credit_code", "region", "contact_name",
                                       "mobile", "ticket_confirmed"])
async def test_cancel_ends_the_form_at_every_step(requested):
    slots, events, said = await reply("算了", requested, {**DETAILS, "demand": DEMAND})
    assert ended(events) and slots["form_left"] is True
    assert "已取消登记，没有提交任何信息" in said


async def test_skip_is_not_cancel_at_the_credit_code_question():
    slots, events, _ = await reply("跳过", "credit_code")
    assert slots["credit_code"] == "无" and not ended(events)


async def test_start_over_clears_the_draft_and_the_details():
    slots, events, said = await reply("重新开始", "mobile", {**DETAILS, "demand": DEMAND})
    assert ended(events) and "已清空" in said
    assert all(slots[k] is None for k in ("demand", "company", "region", "contact_name"))


async def test_an_edit_at_the_summary_changes_one_detail():
    slots, events, said = await reply("手机号改成13800001111", "ticket_confirmed",
                                      {**DETAILS, "demand": DEMAND})
    assert slots["mobile"] == "13800001111" and slots["ticket_confirmed"] is None
    assert "已修改手机" in said and not ended(events)


async def test_an_edit_button_asks_for_the_new_value_and_keeps_the_old_one_until_then():
    draft = {**DETAILS, "demand": DEMAND}
    slots, _, _ = await reply("修改联系人", "ticket_confirmed", draft)
    assert slots["editing"] == "contact_name" and "contact_name" not in slots
    slots, _, said = await reply("赵会计", "ticket_confirmed", {**draft, "editing": "contact_name"})
    assert slots["contact_name"] == "赵会计" and slots["editing"] is None and "已修改联系人" in said
    slots, _, _ = await reply("不改了", "ticket_confirmed", {**draft, "editing": "contact_name"})
    assert slots == {"ticket_confirmed": None, "editing": None}  # the old contact stays
    slots, _, _ = await reply("/affirm", "ticket_confirmed", {**draft, "editing": "content"})
    assert slots == {"ticket_confirmed": None, "editing": None}  # a button is no new content


async def test_another_enterprise_needs_its_own_credit_code():
    draft = {**DETAILS, "credit_code": "91330825MA2B12345B", "demand": DEMAND}
    slots, _, said = await reply("企业名称改为龙游县恒达机械有限公司", "ticket_confirmed", draft)
    assert slots["company"] == "龙游县恒达机械有限公司" and slots["credit_code"] is None
    # a skipped code is no other enterprise's code: nothing to ask again
    slots, _, _ = await reply("企业名称改为龙游县恒达机械有限公司", "ticket_confirmed",
                              {**DETAILS, "demand": DEMAND})
    assert "credit_code" not in slots


@pytest.mark.parametrize("text", ["补充：订单被取消了", "不用了，这样就行"])
async def test_sentences_with_a_cancel_word_do_not_cancel(text):
    _, events, _ = await reply(text, "ticket_confirmed", {**DETAILS, "demand": DEMAND})
    assert not ended(events)


async def test_a_department_notification_is_not_an_answer():
    dispatcher = CollectingDispatcher()
    tracker = form_tracker("EXTERNAL: EXTERNAL_ticket_update", "company",
                           intent="EXTERNAL_ticket_update")
    tracker.events.pop()  # the mapping does not take it (not_intent)
    assert await ValidateTicketForm().run(dispatcher, tracker, {}) == []


@pytest.mark.parametrize("text", ["柯城区", "龙游", "恒丰纸业有限公司", "91330825MA2B12345B", "8866"])
async def test_a_contact_is_a_person(text):
    slots, _, said = await reply(text, "contact_name")
    assert slots["contact_name"] is None and "联系人的姓名或称呼" in said


@pytest.mark.parametrize("text,name", [("刘芳", "刘芳"), ("傅工", "傅工"), ("我姓王，叫我王经理就行", "王经理"),
                                       ("欧阳娜娜", "欧阳娜娜")])
async def test_names_are_contacts(text, name):
    slots, _, _ = await reply(text, "contact_name", intent="affirm")
    assert slots["contact_name"] == name


async def test_a_city_asks_for_its_county():
    slots, _, _ = await reply("衢州", "region")
    assert slots["region"] is None and slots["region_city"] == "衢州市"


async def test_a_credit_code_from_another_county_is_asked_about():
    slots, _, said = await reply("91330803MA2C56781C", "credit_code", {"region": "龙游县"})
    assert slots["credit_code"] == "91330803MA2C56781C" and slots["region"] is None
    assert slots["region_options"] == ["龙游县", "衢江区"] and "衢江区登记" in said
    # the city's own registration authority does not contradict a county of that city
    slots, _, said = await reply("91330800MA2D901235", "credit_code", {"region": "龙游县"})
    assert "region" not in slots and said == ""


async def test_a_greeting_is_answered_and_the_question_stays():
    slots, events, said = await reply("你好", "mobile", intent="greet", confidence=0.97)
    assert said.startswith("您好") and slots == {"mobile": None} and not ended(events)


async def test_a_request_for_a_person_hands_over_and_keeps_the_draft():
    slots, events, _ = await reply("转人工", "credit_code", {"demand": DEMAND},
                                   intent="request_human", confidence=0.95)
    assert ended(events) and "demand" not in slots
    assert any(e["event"] == "followup" and e["name"] == "action_handoff" for e in events)


async def test_contact_words_are_not_a_request_for_a_person():
    slots, events, _ = await reply("联系人改为赵会计", "ticket_confirmed",
                                   {**DETAILS, "demand": DEMAND}, intent="request_human",
                                   confidence=0.8)
    assert slots["contact_name"] == "赵会计" and not ended(events)


async def test_a_rating_form_takes_only_scores():
    slots, _, said = await reply("123", "rating", form=ValidateRatingForm, loop="rating_form")
    assert slots["rating"] is None and "1到5" in said
    slots, _, _ = await reply("4分", "rating", form=ValidateRatingForm, loop="rating_form")
    assert slots["rating"] == "4"
