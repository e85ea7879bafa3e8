"""The WeChat channel in the real Rasa server: verification, a conversation with numbered
buttons, and a ticket notification pushed through the platform API when a department
resolves the ticket. The platform's API is a local aiohttp server in a thread (the
``wechat_platform_thread`` fixture of conftest.py)."""

import json
import time
import urllib.parse
import urllib.request
import uuid
from dataclasses import replace

import pytest
import yaml
from conftest import OPENID, TOKEN, eventually_sync, message_xml, sign, signed_query
from defusedxml.ElementTree import fromstring
from sqlalchemy import create_engine, select

from bot.db.schema import policy_deliveries
from bot.http.tokens import add_token
from bot.runner import Services
from bot.shell import free_port


@pytest.fixture(scope="module")
def wechat(settings, model_file, tmp_path_factory, wechat_platform_thread):
    platform = wechat_platform_thread
    run_dir = tmp_path_factory.mktemp("wx-run")
    credentials = run_dir / "credentials.yml"
    credentials.write_text(yaml.safe_dump({
        "bot.channels.rest.RestInput": None,
        "bot.channels.staff.StaffInput": None,
        "bot.channels.wechat.WeChatInput": {
            "token": TOKEN, "app_id": "wx1234567890abcdef", "app_secret": "s3cret",
            "api_base": platform.base, "notice_template_id": "TPL-policy"}}),
        encoding="utf-8")
    live = replace(settings, rasa_port=free_port(), action_port=free_port(),
                   api_port=free_port(), var=str(run_dir / "var"),
                   job_interval=2)  # the web process's periodic jobs, policy notices included
    tokens = {"handler": add_token(live.api_tokens_file, "金融办", "handler",
                                   "龙游县金融工作服务中心"),
              "agent": add_token(live.api_tokens_file, "坐席小王", "agent")}
    svc = Services(live, model_file, run_dir, credentials=credentials)
    svc.start()
    svc.platform, svc.tokens = platform, tokens
    yield svc
    svc.stop()


def call(url, data=None, headers=None, method=None):
    req = urllib.request.Request(url, data=data, headers=headers or {}, method=method)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return resp.status, resp.read().decode()


def webhook(svc, **query):
    return f"{svc.rasa_url}/webhooks/wechat/webhook?" + urllib.parse.urlencode(query)


def say(svc, text, user=OPENID):
    status, body = call(webhook(svc, **signed_query(openid=user)),
                        data=message_xml(text, user=user).encode())
    assert status == 200
    return "" if body == "success" else fromstring(body).find("Content").text


def test_url_verification_through_rasa(wechat):
    ts, nonce = str(int(time.time())), "123"
    assert call(webhook(wechat, timestamp=ts, nonce=nonce, echostr="abc",
                        signature=sign(TOKEN, ts, nonce))) == (200, "abc")


def test_a_wechat_conversation_to_a_ticket_and_its_notification(wechat):
    user = f"o{uuid.uuid4().hex[:20]}"
    assert "企业服务智能助手" in say(wechat, "你好", user)
    first = say(wechat, "我们厂的过桥资金下个月到期，银行说不续贷了", user)
    assert "请回复序号或文字：\n1. 需要登记\n2. 类别不对\n3. 不用了" in first
    assert "企业全称" in say(wechat, "1", user)  # the number picks the button
    for answer in ("龙游县恒丰纸业有限公司", "跳过", "1", "王经理", "13905701234"):
        summary = say(wechat, answer, user)  # "1": the county offered from the name
    assert "请核对以下信息" in summary and "1. 确认提交" in summary
    done = say(wechat, "1", user)
    number = done.split("工单号：")[1].split()[0]

    # the department resolves it; the enterprise is told through the push API
    api = f"http://{wechat.settings.host}:{wechat.settings.api_port}/api/v1"
    auth = {"Authorization": f"Bearer {wechat.tokens['handler']}",
            "Content-Type": "application/json"}
    ticket = json.loads(call(f"{api}/tickets/{number}", headers=auth)[1])["ticket"]
    assert ticket["sender_id"] == f"wechat:{user}" and ticket["channel"] == "wechat"
    ticket = json.loads(call(f"{api}/tickets/{number}/accept", headers=auth, method="POST",
                             data=json.dumps({"version": ticket["version"]}).encode())[1])
    call(f"{api}/tickets/{number}/resolve", headers=auth, method="POST",
         data=json.dumps({"version": ticket["ticket"]["version"],
                          "reply": "已协调农商行续贷"}).encode())

    def rating_asked():  # the notification ends with the rating question
        return any("打分" in p for p in wechat.platform.pushed_to(user))

    eventually_sync(rating_asked, timeout=20, interval=0.3)
    pushed = wechat.platform.pushed_to(user)
    assert any("已协调农商行续贷" in p for p in pushed), pushed
    assert any("1. 5分" in p for p in pushed)  # the rating buttons, as numbered options
    assert "感谢您的评价（5分）" in say(wechat, "1", user)


def test_a_staff_reply_reaches_wechat_through_the_customer_service_api(wechat):
    """转人工 on WeChat: the agent's reply is pushed with the platform's customer-service
    message API (message/custom/send), and the user can end the hand-over."""
    user = f"o{uuid.uuid4().hex[:20]}"
    assert "人工服务" in say(wechat, "帮我转人工，我要找工作人员", user)
    api = f"http://{wechat.settings.host}:{wechat.settings.api_port}/api/v1"
    auth = {"Authorization": f"Bearer {wechat.tokens['agent']}",
            "Content-Type": "application/json"}
    waiting = json.loads(call(f"{api}/handoffs", headers=auth)[1])["handoffs"]
    (mine,) = [h for h in waiting if h["conversation_id"] == f"wechat:{user}"]
    status, body = call(f"{api}/handoffs/{mine['id']}/reply", headers=auth, method="POST",
                        data=json.dumps({"text": "您好，我是坐席小王，请问是哪家企业？"}).encode())
    answer = json.loads(body)
    assert status == 200 and answer["delivery"] == "push" and answer["delivered"] is True
    pushed = wechat.platform.pushed_to(user)
    assert "【人工客服】您好，我是坐席小王，请问是哪家企业？" in pushed
    # the user ends it; the assistant answers again
    assert "智能助手继续为您服务" in say(wechat, "不用人工了", user)
    waiting = json.loads(call(f"{api}/handoffs", headers=auth)[1])["handoffs"]
    assert not [h for h in waiting if h["conversation_id"] == f"wechat:{user}"]


GRANT = """---
id: lyx-paper-upgrade-grant
title: 龙游县造纸企业技术改造补助实施细则（测试）
issuer: 龙游县经济和信息化局
doc_no: 龙经信〔2026〕12号
date: 2026-11-28
region: 龙游县
domains: [policy]
subtopics: [subsidy_cashing]
apply_by: 2099-12-31
benefit: 技术改造设备投资额的12%补助，单个项目最高200万元
eligibility: {size: [small, medium]}
---
## 支持对象
本县造纸、包装企业实施的技术改造项目。

## 申报方式
登录浙里办搜索“技改补助”在线申报，需提交设备发票和项目备案证明。
"""


def test_a_new_policy_reaches_a_qualifying_wechat_enterprise_as_a_template_message(
        wechat, tmp_path):
    """政策直达: the enterprise's ticket built its profile; a new benefit policy for its
    county is matched once by the web process's periodic job and sent as a template
    message; "怎么申报" then asks about that policy; "退订" stops further notices."""
    import shutil

    from bot.kb.setup import ingest_folder

    user = f"o{uuid.uuid4().hex[:20]}"
    say(wechat, "我们厂区每天下午都停电，影响生产", user)
    say(wechat, "1", user)
    for answer in ("龙游县恒丰纸业有限公司", "91330825MA2B12345B", "1", "王经理",
                   "13905701234"):
        summary = say(wechat, answer, user)
    assert "91330825MA2B12345B" in summary
    assert "工单号" in say(wechat, "1", user)

    folder = tmp_path / "policies"
    shutil.copytree(wechat.settings.kb_source_dir, folder)
    (folder / "lyx-paper-upgrade-grant.md").write_text(GRANT, encoding="utf-8")
    assert ingest_folder(wechat.settings, folder).added == ["lyx-paper-upgrade-grant"]
    eventually_sync(lambda: wechat.platform.templates_to(user), timeout=30, interval=0.5)
    (card,) = wechat.platform.templates_to(user)
    assert card["template_id"] == "TPL-policy"
    assert card["data"]["keyword1"]["value"].startswith("龙游县造纸企业技术改造补助")
    assert card["data"]["keyword3"]["value"] == "2099-12-31"
    assert ingest_folder(wechat.settings, folder).added == []  # re-ingesting it
    time.sleep(3 * wechat.settings.job_interval)  # nothing to await: that nothing comes
    assert len(wechat.platform.templates_to(user)) == 1  # once, not again

    follow_up = say(wechat, "这个怎么申报", user)
    assert "浙里办" in follow_up, follow_up
    with create_engine(wechat.database_url).connect() as conn:  # reach: asked afterwards
        asked = conn.execute(select(policy_deliveries.c.asked_at).where(
            policy_deliveries.c.doc_id == "lyx-paper-upgrade-grant",
            policy_deliveries.c.credit_code == "91330825MA2B12345B")).scalars().all()
    assert len(asked) == 1 and asked[0] is not None
    assert "已退订" in say(wechat, "退订", user)
    assert "已退订" in say(wechat, "我的信息", user)
