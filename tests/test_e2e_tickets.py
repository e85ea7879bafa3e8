"""Opening a ticket in a conversation through the REST channel (real servers)."""

import uuid

from conftest import open_ticket, say, texts

from bot.tickets.store import SqlTicketStore


def test_a_reported_problem_becomes_a_routed_ticket(services):
    sender = uuid.uuid4().hex
    reply = open_ticket(services, sender)
    assert "已受理，工单号：QZ-" in reply and "龙游县金融工作服务中心" in reply
    number = reply.split("工单号：")[1].split()[0]
    store = SqlTicketStore.from_url(services.database_url)
    ticket = store.get(number)
    assert ticket.enterprise.name == "恒丰纸业有限公司"
    assert ticket.enterprise.mobile == "13905701234" and ticket.region == "龙游县"
    assert ticket.subtopic == "bridge_loan" and ticket.department == "龙游县金融工作服务中心"
    assert ticket.sender_id.endswith(sender)

    # the same problem again: linked to the open ticket, the details are remembered
    again = say(services, sender, "银行抽贷的事还是没解决，过桥资金还没着落")
    assert "需要为您登记" in texts(again)
    summary = texts(say(services, sender, "/affirm"))  # nothing to ask: details remembered
    assert "请核对以下信息" in summary and "企业：恒丰纸业有限公司" in summary
    linked = say(services, sender, "/affirm")
    assert len(linked) == 1, linked
    assert f"工单号：{number}" in linked[0]["text"]
    assert "30天内已反映过同类问题" in linked[0]["text"]


def test_a_bad_mobile_number_is_asked_again(services):
    sender = uuid.uuid4().hex
    say(services, sender, "客户拖欠我们八十多万货款一直不给")
    say(services, sender, "/affirm")
    say(services, sender, "江山市宏达门业有限公司")
    # the county in the company name is offered, never assumed
    asked = say(services, sender, "跳过")
    assert "哪个县" in texts(asked) and asked[-1]["buttons"][0]["title"] == "江山市"
    assert "联系人" in texts(say(services, sender, "江山市"))
    say(services, sender, "李会计")
    assert "11位" in texts(say(services, sender, "12345"))
    assert "确认提交" in texts(say(services, sender, "138 1234 5678"))
    done = say(services, sender, "确认")
    assert len(done) == 1 and "已受理，工单号：QZ-" in done[0]["text"]
    assert "江山市司法局" in done[0]["text"]
    assert "企业服务智能助手" in texts(say(services, sender, "你好"))  # the dialogue goes on


def test_declining_or_cancelling_opens_nothing(services):
    sender = uuid.uuid4().hex
    say(services, sender, "园区食堂太难吃了，员工意见很大")
    declined = say(services, sender, "/deny")
    assert len(declined) == 1 and "没有提交任何信息" in declined[0]["text"]
    sender = uuid.uuid4().hex
    say(services, sender, "我们的出口退税三个月还没到账")
    say(services, sender, "/affirm")
    cancelled = say(services, sender, "算了不用了")
    assert len(cancelled) == 1 and "已取消登记" in cancelled[0]["text"]
    # declining at the summary opens nothing either
    sender = uuid.uuid4().hex
    say(services, sender, "招不到电焊工，订单要延期了")
    for answer in ("/affirm", "岱山县宏海船舶修造有限公司", "不清楚", "岱山县", "刘主任",
                   "13905801234"):
        say(services, sender, answer)
    cancelled = say(services, sender, "/deny")
    assert len(cancelled) == 1 and "已取消登记" in cancelled[0]["text"]
    store = SqlTicketStore.from_url(services.database_url)
    with store.engine.connect() as conn:
        from sqlalchemy import text
        names = [r[0] for r in conn.execute(text("SELECT enterprise_name FROM tickets"))]
    assert "岱山县宏海船舶修造有限公司" not in names
