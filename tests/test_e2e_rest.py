"""End-to-end conversations through the REST channel of a real Rasa server.

The session fixture starts the action server and the Rasa server on free
loopback ports (bot.runner.Services, as `govbot run` does).
"""

import json
import urllib.request
import uuid
from pathlib import Path

import pytest


def post(url: str, payload: dict, timeout: float = 30) -> tuple[int, object]:
    req = urllib.request.Request(url, data=json.dumps(payload).encode(),
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as err:
        return err.code, err.read().decode(errors="replace")


def say(services, message, sender=None) -> list[str]:
    status, replies = post(f"{services.rasa_url}/webhooks/rest/webhook",
                           {"sender": sender or uuid.uuid4().hex, "message": message})
    assert status == 200, replies
    return [r.get("text", "") for r in replies]


@pytest.mark.parametrize("message,expected", [
    ("你好", "企业服务智能助手"),
    ("谢谢你们", "不客气"),
    ("再见", "再见"),
    ("你能帮我做什么", "我可以帮企业"),
    ("我要转人工", "人工服务"),
    ("我的工单处理到哪一步了", "没有查到您在本渠道登记的工单"),
    ("今天杭州天气怎么样", "不在企业服务的范围内"),
])
def test_conversation_basics(services, message, expected):
    replies = say(services, message)
    assert len(replies) == 1 and expected in replies[0], replies


def test_a_demand_is_answered_with_domain_and_subtopic(services):
    (reply,) = say(services, "我们厂的过桥资金下个月到期，银行说不续贷了")
    assert reply.startswith("识别为：金融服务·应急转贷（过桥）与抽贷断贷")


def test_a_policy_question_in_traditional_characters_is_answered_with_a_citation(services):
    (reply,) = say(services, "高新技術企業認定要滿足哪些條件")
    assert reply.startswith("根据《") and "高新技术企业认定管理办法" in reply
    assert "国科发火〔2016〕32号" in reply and "有帮助吗" in reply


def test_a_policy_question_the_knowledge_base_cannot_answer(services):
    sender = "kb-gap-user"
    (reply,) = say(services, "北交所上市对净利润有啥硬性要求", sender)
    assert "政策库里暂时没有" in reply and "需要为您登记" in reply
    assert "企业全称" in say(services, "/affirm", sender)[0]


@pytest.mark.parametrize("message", ["", "   ", "😀😀😀", "\x00\x07"])
def test_messages_without_words_ask_for_text(services, message):
    replies = say(services, message)
    assert replies and "没有输入文字" in replies[0]


def test_a_10000_character_message(services):
    replies = say(services, "我们公司被客户拖欠货款一直不还，" * 625)
    assert replies and "前五千字" in replies[-1]


def test_english_only_is_redirected(services):
    replies = say(services, "Can you recommend a good restaurant nearby?")
    assert replies and ("不在企业服务的范围内" in replies[0] or "换个说法" in replies[0])


def test_one_user_conversation_keeps_its_region(services):
    sender = uuid.uuid4().hex
    say(services, "我们在龙游，厂里贷款到期银行不续了", sender)
    status, tracker = 0, None
    with urllib.request.urlopen(services.rasa_api(f"/conversations/{sender}/tracker")) as r:
        status, tracker = r.status, json.loads(r.read())
    assert status == 200 and tracker["slots"]["region"] == "龙游县"
    latest = tracker["latest_message"]
    assert latest["domain"]["name"] == "finance" and latest["subtopic"]["name"]


def test_model_parse_endpoint_has_the_contract_fields(services):
    status, parse = post(services.rasa_api("/model/parse"), {"text": "出口退税一般多久到账"})
    assert status == 200
    assert parse["intent"]["name"] == "ask_policy"
    assert parse["domain"]["name"] == "open" and parse["subtopic"]["name"] == "export_tax_rebate"
    assert len(parse["domain_ranking"]) == 9


@pytest.mark.parametrize("path", ["/conversations/u/tracker", "/status", "/domain",
                                  "/conversations/u/tracker?token=wrong"])
def test_rasa_http_api_needs_the_token(services, path):
    """Without the token, the tracker (company, contact, mobile slots) stays closed."""
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(f"{services.rasa_url}{path}", timeout=10)
    assert err.value.code == 401
    status, _ = post(f"{services.rasa_url}/model/parse", {"text": "你好"})
    assert status == 401
    with urllib.request.urlopen(f"{services.rasa_url}/", timeout=10) as r:  # health: open
        assert r.status == 200
    token_file = services.settings.rasa_token_file
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert services.settings.rasa_token not in " ".join(
        Path(f"/proc/{p.pid}/cmdline").read_bytes().decode().replace("\0", " ")
        for p in services.processes.values())  # never on a command line


@pytest.mark.parametrize("raw,code", [
    (b"{not json", "invalid_json"), (b"[]", "invalid_json"),
    (b'{"message": "hi"}', "invalid_sender"), (b'{"sender": "u", "message": null}',
                                              "invalid_message")])
def test_malformed_requests_get_400_and_nothing_is_processed(services, raw, code):
    req = urllib.request.Request(f"{services.rasa_url}/webhooks/rest/webhook", data=raw,
                                 headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(req, timeout=30)
    assert err.value.code == 400
    answer = json.loads(err.value.read())
    assert answer["error"] == code and answer["message"]
    with urllib.request.urlopen(services.rasa_api("/conversations/u/tracker")) as r:
        events = json.loads(r.read()).get("events") or []
    assert [e for e in events if e.get("event") == "user"] == []
    assert say(services, "你好")  # still serving


def test_a_failed_turn_still_gets_an_answer(settings, model_file, tmp_path):
    """With the action server gone, a demand gets "please retry", not silence."""
    from dataclasses import replace

    from bot.runner import Services
    from bot.shell import free_port

    svc = Services(replace(settings, rasa_port=free_port(), action_port=free_port(),
                           actions="http"),  # the action server, which then goes away
                   model_file, tmp_path)
    svc.start()
    try:
        svc.processes["action-server"].terminate()
        svc.processes["action-server"].wait(timeout=30)
        replies = say(svc, "我们厂的过桥资金下个月到期，银行说不续贷了")
        assert replies and "稍后重试" in replies[-1]
        assert "企业服务智能助手" in say(svc, "你好")[0]  # responses need no action server
    finally:
        svc.stop()
