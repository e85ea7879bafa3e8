"""The staff inbox in the console: handed-over conversations with their history, an
agent's reply reaching the web chat, handing back to the assistant (web test client
against a stand-in Rasa server; the real channel is tested in test_e2e_closed_loop)."""

from sqlalchemy import select

from bot.db.schema import api_audit
from bot.tickets.model import Enterprise, NewTicket


async def test_an_agent_sees_the_waiting_conversation_and_replies(site):
    ticket = site.backend.service.open(NewTicket(
        Enterprise("龙游县恒丰纸业有限公司", None, "王经理", "13905701234"), "龙游县",
        "finance", "bridge_loan", "过桥资金到期"), "test").ticket
    h = site.backend.handoffs.open("rest:webabcdef123456", "webabcdef123456", "rest",
                                   "转人工", ticket.number)
    assert (await site.get("/web/handoffs")).status == 401  # not signed in
    _, csrf = await site.login("agent")
    headers = {"X-CSRF-Token": csrf}
    listed = await (await site.get("/web/handoffs")).json()
    (item,) = listed["handoffs"]
    assert item["id"] == h.id and item["channel"] == "网页咨询" and item["delivery"] == "polling"
    assert item["enterprise"] == {"company": "龙游县恒丰纸业有限公司", "contact_name": "王经理",
                                  "mobile": "13905701234", "region": "龙游县"}
    assert [m["who"] for m in item["messages"]][:2] == ["user", "bot"]
    assert "EXTERNAL" not in str(item["messages"])
    assert isinstance(listed["working_hours"], bool)

    r = await site.post(f"/web/handoffs/{h.id}/reply", headers=headers,
                        json={"text": "您好，我是坐席小王，已帮您联系金融办。"})
    assert r.status == 200 and (await r.json())["delivered"] is True
    # the web chat's poll brings the reply; the console shows it as staff
    r = await site.get("/chat/updates", params={"sender": "abcdef123456", "after": "300"})
    assert [m["text"] for m in (await r.json())["messages"]] == [
        "【人工客服】您好，我是坐席小王，已帮您联系金融办。"]
    (item,) = (await (await site.get("/web/handoffs")).json())["handoffs"]
    assert item["messages"][-1]["who"] == "staff" and item["messages"][-1]["staff"] == "agent:agent"
    notes = [e for e in site.backend.service.store.events(ticket.number) if e.kind == "handoff"]
    assert "已帮您联系金融办" in notes[-1].data.get("text", str(notes[-1].data))

    for bad in ({"text": ""}, {"text": "字" * 1001}, {}):
        r = await site.post(f"/web/handoffs/{h.id}/reply", headers=headers, json=bad)
        assert r.status == 400 and "回复内容" in (await r.json())["error"]["message"]
    r = await site.post(f"/web/handoffs/{h.id}/close", headers=headers)
    assert r.status == 200
    assert (await (await site.get("/web/handoffs")).json())["handoffs"] == []
    r = await site.post(f"/web/handoffs/{h.id}/reply", headers=headers, json={"text": "在吗"})
    assert r.status == 409
    with site.backend.engine.connect() as conn:
        audited = [(a.actor, a.path, a.status) for a in conn.execute(select(api_audit)).all()]
    assert ("agent", f"/web/handoffs/{h.id}/reply", 200) in audited
    assert ("agent", f"/web/handoffs/{h.id}/close", 200) in audited


async def test_handlers_have_no_inbox(site):
    _, csrf = await site.login("finance")
    assert (await site.get("/web/handoffs")).status == 403
    r = await site.post("/web/handoffs/1/reply", headers={"X-CSRF-Token": csrf},
                        json={"text": "x"})
    assert r.status == 403
