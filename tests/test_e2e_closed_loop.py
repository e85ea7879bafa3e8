"""The closed loop end to end: a ticket opened in the REST channel is queried, urged,
resolved by a department through the API, rated, and handed over to a person — real
Rasa server, action server and department API on loopback ports."""

import json
import urllib.request
import uuid

from conftest import open_ticket, say, texts
from sqlalchemy import create_engine, select

from bot.db.schema import nlu_corrections
from bot.tickets.store import SqlTicketStore


def api(services, method, path, role, body=None):
    req = urllib.request.Request(
        f"{services.api_url}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {services.tokens[role]}",
                 "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read())


def bot_messages(services, sender):
    with urllib.request.urlopen(services.rasa_api(f"/conversations/{sender}/tracker"),
                                timeout=30) as resp:
        events = json.loads(resp.read())["events"]
    return [e.get("text") or "" for e in events if e["event"] == "bot"]


def test_open_query_urge_resolve_rate(services):
    owner = uuid.uuid4().hex
    reply = open_ticket(services, owner)
    number = reply.split("工单号：")[1].split()[0]

    status = texts(say(services, owner, "我反映的问题现在办得怎么样了"))
    assert f"工单号：{number}" in status and "承办部门：龙游县金融工作服务中心" in status

    # someone else needs the number and the mobile's last four digits
    stranger = uuid.uuid4().hex
    asked = say(services, stranger, f"帮我查下{number.lower()}的进度")
    assert len(asked) == 1 and "后四位" in asked[0]["text"]
    refused = texts(say(services, stranger, "0000"))
    assert "不正确" in refused and number not in refused
    say(services, stranger, "查询工单 QZ-20990101-0009")  # no such ticket: the same answer
    assert texts(say(services, stranger, "0000")) == refused
    say(services, stranger, f"查询工单 {number}")
    assert f"工单号：{number}" in texts(say(services, stranger, "1234"))

    assert "已催办" in texts(say(services, owner, "都一个礼拜了还没人联系，麻烦催一下"))
    assert "今天已经催办过" in texts(say(services, owner, "快点处理啊，催一下"))

    # the department accepts and resolves through the API; the enterprise is told
    ticket = api(services, "GET", f"/tickets/{number}", "handler")["ticket"]
    ticket = api(services, "POST", f"/tickets/{number}/accept", "handler",
                 {"version": ticket["version"]})["ticket"]
    api(services, "POST", f"/tickets/{number}/resolve", "handler",
        {"version": ticket["version"], "reply": "已协调龙游农商行办理续贷"})
    told = bot_messages(services, owner)
    assert any("已受理您的工单" in m for m in told)
    assert "已办结" in told[-2] and "已协调龙游农商行办理续贷" in told[-2]
    assert "打分" in told[-1]  # the rating form asks

    rated = texts(say(services, owner, "2分，续贷利率太高了"))
    assert "重新交办" in rated
    store = SqlTicketStore.from_url(services.database_url)
    assert store.get(number).status.value == "reopened"
    events = store.events(number)
    assert [e.kind for e in events].count("urge") == 1
    rating = next(e for e in events if e.to_status and e.to_status.value == "rated")
    assert rating.data == {"reason": "rated", "rating": 2, "comment": "2分，续贷利率太高了"}
    assert events[-1].kind == "review" and events[-1].data["rating"] == 2  # the centre's


def test_hand_over_to_a_person_and_back(services):
    sender = uuid.uuid4().hex
    assert "已为您转接人工服务" in texts(say(services, sender, "我要找人工客服"))
    # paused: staff answer, not the bot
    assert "已转给人工服务" in texts(say(services, sender, "有人吗"))
    waiting = api(services, "GET", "/handoffs", "agent")["handoffs"]
    (mine,) = [h for h in waiting if h["conversation_id"] == sender]
    assert "我要找人工客服" in mine["text"]
    closed = api(services, "POST", f"/handoffs/{mine['id']}/close", "agent", {})
    assert closed["conversation_resumed"] is True
    assert "人工服务已结束" in bot_messages(services, sender)[-1]
    assert "企业服务智能助手" in texts(say(services, sender, "你好"))


def test_the_user_corrects_the_category(services):
    sender = uuid.uuid4().hex
    say(services, sender, "我们厂的过桥资金下个月到期，银行说不续贷了")
    domains = say(services, sender, "/correct_domain")
    assert len(domains[-1]["buttons"]) == 9
    subs = say(services, sender, '/choose_domain{"picked_domain":"legal"}')
    assert "法治服务中，具体是哪一类" in texts(subs)
    picked = say(services, sender,
                 '/choose_domain{"picked_domain":"legal","picked_subtopic":"contract_debt"}')
    assert "已改为：法治服务·合同纠纷与账款拖欠" in texts(picked)
    # the user's correction waits for an administrator's review (issue 15)
    engine = create_engine(services.database_url)
    with engine.connect() as conn:
        rows = conn.execute(select(nlu_corrections).where(
            nlu_corrections.c.text == "我们厂的过桥资金下个月到期，银行说不续贷了")).all()
    engine.dispose()
    assert [(r.source, r.status, r.predicted_domain, r.domain, r.subtopic) for r in rows] == [
        ("user", "pending", "finance", "legal", "contract_debt")]
    assert "企业全称" in texts(say(services, sender, "/affirm"))
    for answer in ("衢江区永昌建材有限公司", "跳过", "衢江区", "赵会计", "13905702222"):
        summary = texts(say(services, sender, answer))
    assert "诉求领域：法治服务·合同纠纷与账款拖欠" in summary
    done = texts(say(services, sender, "/affirm"))
    assert "衢江区司法局" in done


def test_no_mobile_reaches_any_log(services):
    """Rasa's, the action server's and the web application's logs mask personal numbers."""
    open_ticket(services, uuid.uuid4().hex)
    logs = {p.name: p.read_text(encoding="utf-8", errors="replace")
            for p in services.run_dir.glob("*.log")}
    assert {"rasa-server.log", "web.log"} <= set(logs)  # the actions run inside Rasa
    assert not [name for name, text in logs.items() if "13905701234" in text]
