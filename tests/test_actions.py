"""Custom actions, run without a server: a tracker from a dict, a collecting dispatcher."""

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.demand import ActionAcknowledgeDemand
from actions.unclear import ActionHandleUnclear


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
    assert slots == {"ticket_number": None, "confirm_ticket": True}
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
        "domain": {"name": "tech"}, "subtopic": {"name": "rd_deduction"}, "entities": []})
    assert "科创服务·研发费用加计扣除" in msgs[0]["text"] and "解答" in msgs[0]["text"]


async def test_truncated_message_is_mentioned():
    msgs, _ = await run(ActionAcknowledgeDemand(), {
        "text": "很长", "intent": {"name": "report_need"}, "domain": {"name": "other"},
        "subtopic": {"name": "general_inquiry"}, "entities": [], "text_truncated": True})
    assert "前一千字" in msgs[0]["text"]


async def test_a_subtopic_from_another_domain_is_not_shown():
    msgs, _ = await run(ActionAcknowledgeDemand(), {
        "text": "x", "intent": {"name": "report_need"}, "domain": {"name": "finance"},
        "subtopic": {"name": "rd_deduction"}, "entities": []})
    assert msgs[0]["text"].splitlines()[0] == "识别为：金融服务"


async def test_no_domain_asks_to_rephrase():
    msgs, _ = await run(ActionAcknowledgeDemand(), {
        "text": "x", "intent": {"name": "report_need"}, "domain": {"name": None},
        "entities": []})
    assert msgs[0]["response"] == "utter_please_rephrase"


async def test_empty_and_off_topic_messages():
    msgs, _ = await run(ActionHandleUnclear(), {"text": "😀", "intent": {"name": "out_of_scope"}})
    assert msgs[0]["response"] == "utter_empty_message"
    msgs, _ = await run(ActionHandleUnclear(), {"text": "今天天气", "intent":
                                                {"name": "out_of_scope"}})
    assert msgs[0]["response"] == "utter_out_of_scope"
