"""Custom actions, run without a server: a tracker from a dict, a collecting dispatcher."""

import json
from dataclasses import replace

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.demand import ActionAcknowledgeDemand
from actions.rating import rating_in
from actions.tickets import ActionOpenTicket
from actions.unclear import ActionHandleUnclear
from bot.tickets.factory import build_backend
from bot.tickets.store import Query


def tracker(latest_message: dict) -> Tracker:
    return Tracker.from_dict({"sender_id": "u1", "slots": {}, "latest_message": latest_message,
                              "events": [], "paused": False, "followup_action": None,
                              "active_loop": {}, "latest_action_name": None})


async def run(action, message):
    dispatcher = CollectingDispatcher()
    events = await action.run(dispatcher, tracker(message), {})
    return dispatcher.messages, events


async def test_demand_names_domain_subtopic_and_region():
    msgs, events = await run(ActionAcknowledgeDemand(), {
        "text": "龙游的厂过桥资金到期了", "intent": {"name": "report_need", "confidence": 0.9},
        "domain": {"name": "finance", "confidence": 0.9},
        "subtopic": {"name": "bridge_loan", "confidence": 0.8},
        "entities": [{"entity": "region", "value": "龙游县"}]})
    slots = {e["name"]: e["value"] for e in events}
    demand = slots.pop("demand")
    # the county the user stated is kept for the ticket; nothing else is assumed
    assert slots == {"region": "龙游县", "region_city": None, "more_demands": None,
                     "ticket_number": None, "ticket_confirmed": None, "confirm_ticket": True}
    assert len(demand.pop("id")) == 32  # the idempotency key of the ticket request
    assert demand == {"text": "龙游的厂过桥资金到期了", "domain": "finance",
                      "subtopic": "bridge_loan"}
    (msg,) = msgs
    assert [b["payload"] for b in msg["buttons"]] == ["/affirm", "/correct_domain", "/deny"]
    assert msg["text"].startswith("识别为：金融服务·应急转贷（过桥）与抽贷断贷")
    assert "所在地区：龙游县" in msg["text"] and "需要为您登记" in msg["text"]


async def test_policy_question_gets_its_own_follow_up():
    msgs, _ = await run(ActionAcknowledgeDemand(), {
        "text": "加计扣除比例", "intent": {"name": "ask_policy"},
        "domain": {"name": "tech", "confidence": 0.9}, "subtopic": {"name": "rd_deduction"},
        "entities": []})
    assert "科创服务·研发费用加计扣除" in msgs[0]["text"] and "解答" in msgs[0]["text"]


async def test_truncated_message_is_mentioned():
    msgs, _ = await run(ActionAcknowledgeDemand(), {
        "text": "很长", "intent": {"name": "report_need"},
        "domain": {"name": "other", "confidence": 0.9},
        "subtopic": {"name": "general_inquiry"}, "entities": [], "text_truncated": True})
    assert "前五千字" in msgs[0]["text"]


async def test_a_subtopic_from_another_domain_is_not_shown():
    msgs, _ = await run(ActionAcknowledgeDemand(), {
        "text": "x", "intent": {"name": "report_need"},
        "domain": {"name": "finance", "confidence": 0.9},
        "subtopic": {"name": "rd_deduction"}, "entities": []})
    assert msgs[0]["text"].splitlines()[0] == "识别为：金融服务"


async def test_no_domain_asks_which_area():
    msgs, _ = await run(ActionAcknowledgeDemand(), {
        "text": "x", "intent": {"name": "report_need"}, "domain": {"name": None},
        "entities": []})
    assert "请问主要是哪方面的问题" in msgs[0]["text"]


async def test_a_vague_opener_gets_the_domains_as_buttons():
    msgs, events = await run(ActionAcknowledgeDemand(), {
        "text": "唉，说来话长，最近经营压力很大", "intent": {"name": "report_need"},
        "domain": {"name": "other", "confidence": 0.26}, "entities": []})
    assert "请问主要是哪方面的问题" in msgs[0]["text"] and len(msgs[0]["buttons"]) == 9
    slots = {e["name"]: e["value"] for e in events}
    assert slots["confirm_ticket"] is False and slots["demand"]["domain"] is None
    # a concrete problem said with feeling is acknowledged, not questioned
    msgs, _ = await run(ActionAcknowledgeDemand(), {
        "text": "银行下个月要抽贷，撑不住了", "intent": {"name": "report_need"},
        "domain": {"name": "finance", "confidence": 0.8}, "entities": []})
    assert msgs[0]["text"].startswith("识别为：金融服务")


async def test_empty_and_off_topic_messages():
    msgs, _ = await run(ActionHandleUnclear(), {"text": "😀", "intent": {"name": "out_of_scope"}})
    assert msgs[0]["response"] == "utter_empty_message"
    msgs, _ = await run(ActionHandleUnclear(), {"text": "今天天气", "intent":
                                                {"name": "out_of_scope"}})
    assert msgs[0]["response"] == "utter_out_of_scope"


# -- the ticket form and the follow-up actions ------------------------------------------


@pytest.mark.parametrize("text,slot,score", [
    ("5分", None, 5), ("给个四星吧", None, 4), ("2分，续贷利率太高了", None, 2), ("3", None, 3),
    ("非常不满意，没人联系", None, 1), ("不太满意", None, 2), ("还行", None, 3),
    ("很满意，谢谢", None, 5), ("/rate_service", "4", 4), ("6分", None, None),
    ("谢谢", None, None), ("12分钟就办好了", None, None),
])
def test_ratings_are_read_from_words_digits_and_buttons(text, slot, score):
    assert rating_in(text, slot) == score


def form_tracker(sender="u-outbox"):
    slots = {"company": "龙游县恒丰纸业有限公司", "credit_code": "无", "region": "龙游县",
             "contact_name": "王经理", "mobile": "13905701234", "ticket_confirmed": True,
             "demand": {"id": "d1", "text": "过桥资金到期", "domain": "finance",
                        "subtopic": "bridge_loan"}}
    return Tracker.from_dict({"sender_id": sender, "slots": slots,
                              "latest_message": {"text": "/affirm"}, "events": [],
                              "paused": False, "followup_action": None, "active_loop": {},
                              "latest_action_name": None})


async def test_a_ticket_request_waits_in_the_outbox_when_the_database_is_down(
        settings, tmp_path, monkeypatch):
    dead = replace(settings, var=str(tmp_path),
                   database_url="postgresql+psycopg2://127.0.0.1:1/none?connect_timeout=2")
    backend = build_backend(dead, migrate_schema=False)
    monkeypatch.setattr("actions.tickets.ticket_backend", lambda: backend)
    dispatcher = CollectingDispatcher()
    events = await ActionOpenTicket().run(dispatcher, form_tracker(), {})
    assert "您的诉求已保存" in dispatcher.messages[0]["text"]
    slots = {e["name"]: e["value"] for e in events}
    assert slots["demand"] is None and slots["ticket_confirmed"] is None
    assert slots["ticket_number"] is None  # no number yet: it comes when registered
    (saved,) = backend.outbox.pending()
    body = json.loads(saved.read_text(encoding="utf-8"))
    assert body["request_key"] == "rest:u-outbox:d1"
    assert body["ticket"]["enterprise"]["mobile"] == "13905701234"
    # the database is back: the periodic job registers it once
    up = build_backend(replace(settings, var=str(tmp_path)))
    (opened,) = up.outbox.drain(up.service)
    assert opened.ticket.sender_id == "rest:u-outbox" and up.outbox.pending() == []


async def test_confirming_twice_opens_one_ticket(settings, tmp_path, monkeypatch):
    backend = build_backend(replace(settings, var=str(tmp_path)))
    monkeypatch.setattr("actions.tickets.ticket_backend", lambda: backend)
    replies = []
    for _ in range(2):
        dispatcher = CollectingDispatcher()
        await ActionOpenTicket().run(dispatcher, form_tracker("u-twice"), {})
        replies.append(dispatcher.messages[0]["text"])
    assert replies[0] == replies[1] and "已受理，工单号：QZ-" in replies[0]
    _, total = backend.service.store.query(Query(sender_id="rest:u-twice"))
    assert total == 1



def lookup_tracker(sender: str, number: str, tail: str) -> Tracker:
    return Tracker.from_dict({
        "sender_id": sender, "slots": {"lookup_number": number, "mobile_tail": tail},
        "latest_message": {"text": tail}, "events": [], "paused": False,
        "followup_action": None, "active_loop": {}, "latest_action_name": None})


async def test_one_lookup_limit_per_ticket_number_across_senders(settings, tmp_path,
                                                                  monkeypatch):
    """A new sender does not get a fresh count; an unknown number answers like a wrong
    tail; the status page shares the same limit (same table)."""
    from actions.status import ActionTicketLookup, ActionTicketStatus
    from bot.tickets.lookup import LOOKUP_BLOCKED, LOOKUP_FAILED, MAX_FAILURES
    from bot.tickets.model import Enterprise, NewTicket

    backend = build_backend(replace(settings, var=str(tmp_path)))
    for module in ("actions.status", "actions.handoff", "actions.own_tickets"):
        monkeypatch.setattr(f"{module}.ticket_backend", lambda: backend)
    number = backend.service.open(NewTicket(Enterprise("龙游县恒丰纸业有限公司", None, "王",
                                                       "13905701234"), "龙游县", "finance",
                                            "bridge_loan", "过桥资金到期"), "test").ticket.number

    async def look(sender, wanted, tail):
        dispatcher = CollectingDispatcher()
        await ActionTicketLookup().run(dispatcher, lookup_tracker(sender, wanted, tail), {})
        return dispatcher.messages[0]["text"]

    unknown = await look("s-0", "QZ-20990101-0001", "1234")
    wrong = await look("s-0", number, "0000")
    assert unknown == wrong == LOOKUP_FAILED
    for i in range(1, MAX_FAILURES):  # each try from a new conversation
        assert await look(f"s-{i}", number, "0000") == LOOKUP_FAILED
    assert await look("s-new", number, "1234") == LOOKUP_BLOCKED  # even the right tail
    assert backend.lookup.blocked(number)
    # asking for an unknown number and for someone else's ticket: the same question; a
    # blocked number is refused at once
    for wanted in (number, "QZ-20990101-0002", "QZ-20261206-0002"):
        dispatcher = CollectingDispatcher()
        events = await ActionTicketStatus().run(dispatcher, Tracker.from_dict({
            "sender_id": "s-x", "slots": {}, "latest_message": {
                "text": f"查一下{wanted}", "entities": [
                    {"entity": "ticket_number", "value": wanted}]},
            "events": [], "paused": False, "followup_action": None, "active_loop": {},
            "latest_action_name": None}), {})
        pending = {"event": "slot", "name": "lookup_pending", "value": True,
                   "timestamp": None} in events
        if wanted == number:
            assert dispatcher.messages[0]["text"] == LOOKUP_BLOCKED and not pending
        else:
            assert dispatcher.messages == [] and pending


@pytest.mark.parametrize("at,expected", [
    ("2026-12-04T10:00:00+08:00", "工作时间"),  # a Friday morning: the usual answer
    ("2026-12-04T18:30:00+08:00", "12月7日（周一）08:30"),  # Friday night: Monday
    ("2026-12-05T11:00:00+08:00", "12月7日（周一）08:30")])  # Saturday
async def test_a_hand_over_out_of_hours_says_when_and_offers_a_ticket(
        settings, tmp_path, monkeypatch, at, expected):
    from datetime import datetime

    from actions.handoff import ActionHandoff

    backend = build_backend(replace(settings, var=str(tmp_path)))
    backend.service.clock = lambda: datetime.fromisoformat(at)
    for module in ("actions.status", "actions.handoff", "actions.own_tickets"):
        monkeypatch.setattr(f"{module}.ticket_backend", lambda: backend)
    dispatcher = CollectingDispatcher()
    events = await ActionHandoff().run(dispatcher, Tracker.from_dict({
        "sender_id": "u-night", "slots": {}, "latest_message": {"text": "转人工"},
        "events": [{"event": "user", "text": "转人工"}], "paused": False,
        "followup_action": None, "active_loop": {}, "latest_action_name": None}), {})
    (said,) = dispatcher.messages
    assert events[-1]["event"] == "pause"
    if expected == "工作时间":
        assert said["response"] == "utter_human_handoff"
    else:
        assert expected in said["text"] and "不用人工了" in said["text"] and "工单" in said["text"]
    assert [h.sender_id for h in backend.handoffs.waiting()] == ["rest:u-night"]


async def test_a_wrong_tail_is_asked_again_and_the_fifth_goes_to_the_refusal(
        settings, tmp_path, monkeypatch):
    from actions.status import ValidateTicketLookupForm
    from bot.tickets.lookup import LOOKUP_FAILED, MAX_FAILURES

    backend = build_backend(replace(settings, var=str(tmp_path)))
    for module in ("actions.status", "actions.handoff", "actions.own_tickets"):
        monkeypatch.setattr(f"{module}.ticket_backend", lambda: backend)
    form = ValidateTicketLookupForm()
    tracker = lookup_tracker("s-form", "QZ-20990101-0003", "")
    for attempt in range(1, MAX_FAILURES + 1):
        dispatcher = CollectingDispatcher()
        slots = await form.answer("mobile_tail", f"{attempt}{attempt}{attempt}{attempt}",
                                  dispatcher, tracker, {})
        if attempt < MAX_FAILURES:  # said at once, asked again
            assert slots == {"mobile_tail": None}
            assert LOOKUP_FAILED in dispatcher.messages[0]["text"]
        else:  # now blocked: the look-up action refuses
            assert slots == {"mobile_tail": "5555"} and dispatcher.messages == []
    assert form.cancels("算了不查了，我也记不清是哪个手机号登记的")
    assert not form.cancels("算了，后四位是1234")


async def test_a_follow_up_asks_for_the_rating_again(settings, tmp_path, monkeypatch):
    """回访: the periodic job's follow-up of a resolution nobody rated words the result
    again and starts the rating question, as the resolution notice did."""
    from actions.notifications import ActionTicketUpdate
    from bot.tickets.model import Enterprise, NewTicket

    backend = build_backend(replace(settings, var=str(tmp_path)))
    monkeypatch.setattr("actions.notifications.ticket_backend", lambda: backend)
    t = backend.service.open(NewTicket(Enterprise("龙游县恒丰纸业有限公司"), "龙游县",
                                       "finance", "bridge_loan", "过桥资金到期"),
                             "test").ticket
    t = backend.service.accept(t.number, "handler:x", t.version)
    backend.service.resolve(t.number, "handler:x", t.version, "已协调农商行续贷")
    dispatcher = CollectingDispatcher()
    events = await ActionTicketUpdate().run(dispatcher, tracker({
        "text": "EXTERNAL: EXTERNAL_ticket_update", "entities": [
            {"entity": "ticket_number", "value": t.number},
            {"entity": "ticket_status", "value": "followup"}]}), {})
    (said,) = dispatcher.messages
    assert said["text"].startswith("【回访】") and "已协调农商行续贷" in said["text"]
    assert {"event": "slot", "name": "rating_pending", "value": True,
            "timestamp": None} in events
