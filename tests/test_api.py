"""The department API through aiohttp's test client, on a scratch SQLite database.

Notifications go to a small recording server standing in for Rasa's HTTP API (the
end-to-end test in test_e2e_closed_loop.py uses the real Rasa server).
"""

from dataclasses import replace

import pytest
import yaml
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from conftest import eventually
from sqlalchemy import select

from bot.api.app import create_app
from bot.db.schema import api_audit
from bot.http.tokens import TokenFileError, add_token, load_tokens
from bot.settings import RasaApi
from bot.tickets.factory import build_backend
from bot.tickets.model import Enterprise, NewTicket
from bot.tickets.notify import RasaNotifier

NEW = NewTicket(enterprise=Enterprise("龙游县恒丰纸业有限公司", None, "王经理", "13905701234"),
                region="龙游", domain="finance", subtopic="bridge_loan",
                text="过桥资金到期银行不续贷", sender_id="rest:u1", conversation_id="u1")
FINANCE = "龙游县金融工作服务中心"


@pytest.fixture
async def rasa():
    """Records the trigger_intent calls the notifier makes."""
    calls = []

    async def trigger(request):
        assert request.query["token"] == "t0ken"  # Rasa's HTTP API needs its token
        calls.append((request.match_info["cid"], await request.json()))
        return web.json_response({"tracker": {}, "messages": []})

    async def events(request):
        calls.append((request.match_info["cid"], await request.json()))
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/conversations/{cid}/trigger_intent", trigger)
    app.router.add_post("/conversations/{cid}/tracker/events", events)

    async def staff_reply(request):  # bot/channels/staff.py in the real Rasa server
        assert request.query["token"] == "t0ken"
        calls.append(("staff", await request.json()))
        return web.json_response({"channel": "rest", "delivery": "polling", "delivered": True})

    app.router.add_post("/webhooks/staff/reply", staff_reply)
    server = TestServer(app)
    await server.start_server()
    server.calls = calls
    yield server
    await server.close()


@pytest.fixture
async def api(settings, tmp_path, rasa):
    s = replace(settings, var=str(tmp_path), database_url="")
    backend = build_backend(s)
    tokens_file = tmp_path / "tokens.yml"
    tokens = {"admin": add_token(tokens_file, "管理员", "admin"),
              "handler": add_token(tokens_file, "张三", "handler", FINANCE),
              "other": add_token(tokens_file, "李四", "handler", "龙游县司法局"),
              "agent": add_token(tokens_file, "话务员", "agent")}
    app = create_app(backend, load_tokens(tokens_file),
                     RasaNotifier(RasaApi(str(rasa.make_url("")).rstrip("/"), "t0ken"),
                                  backend.service.store),
                     s.openapi_file.read_text(encoding="utf-8"))
    client = TestClient(TestServer(app))
    await client.start_server()
    client.backend, client.tokens = backend, tokens
    yield client
    await client.close()


def auth(api, who):
    return {"Authorization": f"Bearer {api.tokens[who]}"}


async def call(api, method, path, who="admin", **kw):
    response = await api.request(method, f"/api/v1{path}", headers=auth(api, who), **kw)
    return response.status, await response.json()


async def test_no_token_no_access_and_the_attempt_is_audited(api):
    response = await api.get("/api/v1/tickets")
    assert response.status == 401
    body = await response.json()
    assert body["error"]["code"] == "unauthorized" and "令牌" in body["error"]["message"]
    response = await api.get("/api/v1/tickets", headers={"Authorization": "Bearer nope"})
    assert response.status == 401
    with api.backend.engine.connect() as conn:
        rows = conn.execute(select(api_audit)).all()
    assert [(r.actor, r.status) for r in rows] == [("anonymous", 401), ("anonymous", 401)]


async def test_handlers_see_only_their_department(api):
    service = api.backend.service
    mine = service.open(NEW, "rest:u1").ticket
    other = service.open(replace(NEW, domain="legal", subtopic="contract_debt",
                                 text="货款被拖欠"), "rest:u1").ticket
    status, body = await call(api, "GET", "/tickets", "handler")
    assert status == 200 and [t["number"] for t in body["tickets"]] == [mine.number]
    status, body = await call(api, "GET", f"/tickets?department={other.department}",
                              "handler")  # a handler cannot widen the filter
    assert [t["number"] for t in body["tickets"]] == [mine.number]
    status, body = await call(api, "GET", f"/tickets/{other.number}", "handler")
    assert status == 403 and body["error"]["code"] == "forbidden"
    status, body = await call(api, "GET", "/tickets?domain=legal", "admin")
    assert body["total"] == 1 and body["tickets"][0]["department"] == "龙游县司法局"
    status, body = await call(api, "GET", "/tickets?status=nonsense", "admin")
    assert status == 400
    status, body = await call(api, "GET", "/tickets?limit=5000", "admin")
    assert status == 400


async def test_accept_and_resolve_notify_the_enterprise(api, rasa):
    t = api.backend.service.open(NEW, "rest:u1").ticket
    status, body = await call(api, "POST", f"/tickets/{t.number}/accept", "handler",
                              json={"version": t.version})
    assert status == 200 and body["ticket"]["status"] == "in_progress"
    version = body["ticket"]["version"]
    status, body = await call(api, "POST", f"/tickets/{t.number}/resolve", "handler",
                              json={"version": version, "reply": "已协调农商行续贷"})
    assert status == 200 and body["ticket"]["status"] == "resolved"
    sent = [(cid, b["entities"]) for cid, b in rasa.calls]
    assert sent == [("u1", {"ticket_number": t.number, "ticket_status": "in_progress"}),
                    ("u1", {"ticket_number": t.number, "ticket_status": "resolved"})]
    status, body = await call(api, "GET", f"/tickets/{t.number}", "agent")
    kinds = [(e["kind"], e["actor"]) for e in body["events"]]
    assert ("transition", "handler:张三") in kinds and ("reply", "handler:张三") in kinds
    assert [e["data"].get("delivered") for e in body["events"]
            if e["kind"] == "notification"] == [True, True]


async def test_a_stale_version_or_an_illegal_step_changes_nothing(api):
    t = api.backend.service.open(NEW, "rest:u1").ticket
    status, body = await call(api, "POST", f"/tickets/{t.number}/accept", "handler",
                              json={"version": t.version - 1})
    assert status == 409 and body["error"]["code"] == "conflict"
    status, body = await call(api, "POST", f"/tickets/{t.number}/resolve", "handler",
                              json={"version": t.version, "reply": "好了"})
    assert status == 409 and body["error"]["code"] == "illegal_transition"
    assert api.backend.service.store.get(t.number) == t


async def test_bad_requests_get_clear_errors(api):
    t = api.backend.service.open(NEW, "rest:u1").ticket
    url = f"/api/v1/tickets/{t.number}/escalate"
    response = await api.post(url, data=b"{not json", headers=auth(api, "handler"))
    assert response.status == 400 and (await response.json())["error"]["code"] == "bad_json"
    status, body = await call(api, "POST", f"/tickets/{t.number}/escalate", "handler",
                              json={"version": t.version})
    assert status == 400 and "reason" in body["error"]["message"]
    status, body = await call(api, "POST", f"/tickets/{t.number}/escalate", "handler",
                              json={"version": "2", "reason": "x"})
    assert status == 400
    status, body = await call(api, "GET", "/tickets/QZ-20000101-0001", "admin")
    assert status == 404 and body["error"]["message"] == "没有找到该工单。"
    response = await api.post(url, data=b"x" * 70_000, headers=auth(api, "handler"))
    assert response.status == 413
    status, body = await call(api, "POST", f"/tickets/{t.number}/escalate", "handler",
                              json={"version": t.version, "reason": "x", "level": "galaxy"})
    assert status == 400 and "level" in body["error"]["message"]  # issue 16


async def test_escalation_and_rerouting(api, rasa):
    t = api.backend.service.open(NEW, "rest:u1").ticket
    status, body = await call(api, "POST", f"/tickets/{t.number}/escalate", "handler",
                              json={"version": t.version, "reason": "需市级协调银行"})
    assert status == 200
    assert (body["ticket"]["status"], body["ticket"]["level"], body["ticket"]["department"]) \
        == ("escalated", "city", "衢州市营商环境建设办公室")
    assert rasa.calls[-1][1]["entities"]["ticket_status"] == "escalated"
    # the county handler no longer holds it
    status, _ = await call(api, "POST", f"/tickets/{t.number}/accept", "handler",
                           json={"version": body["ticket"]["version"]})
    assert status == 403
    # an admin corrects the sub-topic; the routing rules choose the department
    t2 = api.backend.service.open(replace(NEW, subtopic="loan_financing", text="贷款难"),
                                  "rest:u1").ticket
    status, body = await call(api, "POST", f"/tickets/{t2.number}/return", "handler",
                              json={"version": t2.version, "reason": "实为劳动纠纷"})
    assert status == 200 and body["ticket"]["status"] == "returned"
    version = body["ticket"]["version"]
    status, body = await call(api, "POST", f"/tickets/{t2.number}/assign", "handler",
                              json={"version": version, "reason": "x"})
    assert status == 403  # only administrators assign
    status, body = await call(api, "POST", f"/tickets/{t2.number}/assign", "admin",
                              json={"version": version,
                                    "reason": "改为劳动纠纷", "domain": "talent",
                                    "subtopic": "labor_dispute"})
    assert status == 200 and body["ticket"]["department"] == "龙游县劳动人事争议仲裁院"
    status, body = await call(api, "POST", f"/tickets/{t2.number}/assign", "admin",
                              json={"version": body["ticket"]["version"], "reason": "x",
                                    "domain": "talent", "subtopic": "bridge_loan"})
    assert status in (400, 409)


async def test_a_common_problem_goes_up_as_one_report_and_each_enterprise_hears_the_answer(
        api, rasa):
    service = api.backend.service
    said = ["这个月银行突然抽贷，过桥资金又到期了，转贷资金池能不能用",
            "银行抽贷，过桥资金到期还不上，转贷资金池怎么申请",
            "过桥资金月底到期，银行抽贷了，急需应急转贷资金池"]
    tickets = [service.open(replace(NEW, enterprise=Enterprise(f"龙游县第{n}纸业有限公司"),
                                    text=text, sender_id=f"rest:c{n}",
                                    conversation_id=f"c{n}"), "test").ticket
               for n, text in enumerate(said)]
    status, body = await call(api, "GET", "/commons?region=龙游县", "handler")
    assert status == 403  # administrators only
    status, body = await call(api, "GET", "/commons?region=龙游县")
    assert status == 200
    [group] = body["groups"]
    assert sorted(group["members"]) == sorted(t.number for t in tickets)
    status, body = await call(api, "POST", "/commons/reports", json={"members": ["x"]})
    assert status == 400 and "至少勾选两家企业" in body["error"]["message"]
    status, body = await call(api, "POST", "/commons/reports",
                              json={"members": group["members"]})
    assert status == 200 and body["made"] and "已生成堵点上报工单" in body["message"]
    report = body["report"]
    assert (report["level"], report["status"]) == ("city", "escalated")
    status, body = await call(api, "POST", f"/tickets/{report['number']}/escalate",
                              json={"version": report["version"], "reason": "需省级协调"})
    assert status == 200 and body["ticket"]["level"] == "province"
    status, body = await call(api, "POST", f"/tickets/{report['number']}/accept",
                              json={"version": body["ticket"]["version"]})
    rasa.calls.clear()
    status, body = await call(api, "POST", f"/tickets/{report['number']}/resolve",
                              json={"version": body["ticket"]["version"],
                                    "reply": "省级转贷资金池已对龙游开放"})
    assert status == 200
    await eventually(lambda: len(rasa.calls) >= 3)  # told in the background
    told = sorted((cid, b["entities"]["ticket_number"], b["entities"]["ticket_status"])
                  for cid, b in rasa.calls)
    assert told == sorted((f"c{n}", t.number, "report_answer") for n, t in enumerate(tickets))
    status, body = await call(api, "GET", f"/tickets/{tickets[0].number}", "agent")
    kinds = [e["kind"] for e in body["events"]]
    assert "in_report" in kinds and "report_answer" in kinds and "notification" in kinds


async def test_a_low_rating_waits_for_the_centres_review(api):
    service = api.backend.service
    t = service.open(NEW, "rest:u1").ticket
    t = service.accept(t.number, "handler:张三", t.version)
    t = service.resolve(t.number, "handler:张三", t.version, "已告知企业自行联系银行")
    service.rate(t.number, "rest:u1", 1, "等于没办")
    status, body = await call(api, "GET", "/reviews", "handler")
    assert status == 403
    status, body = await call(api, "GET", "/reviews")
    [review] = body["reviews"]
    assert (review["number"], review["rating"], review["comment"], review["reply"]) == (
        t.number, 1, "等于没办", "已告知企业自行联系银行")
    status, body = await call(api, "POST", f"/tickets/{t.number}/review", json={})
    assert status == 400 and "conclusion" in body["error"]["message"]
    status, body = await call(api, "POST", f"/tickets/{t.number}/review",
                              json={"conclusion": "部门未实质办理，已约谈并督促重办"})
    assert status == 200 and body["event"]["kind"] == "reviewed"
    status, body = await call(api, "GET", "/reviews")
    assert body["reviews"] == []
    status, body = await call(api, "POST", f"/tickets/{t.number}/review",
                              json={"conclusion": "again"})
    assert status == 400


async def test_agents_read_and_note_but_do_not_change_status(api):
    t = api.backend.service.open(NEW, "rest:u1").ticket
    status, body = await call(api, "POST", f"/tickets/{t.number}/notes", "agent",
                              json={"text": "企业来电补充：续贷金额500万"})
    assert status == 201 and body["event"]["kind"] == "note"
    status, body = await call(api, "POST", f"/tickets/{t.number}/accept", "agent",
                              json={"version": t.version})
    assert status == 403 and "权限" in body["error"]["message"]
    status, body = await call(api, "GET", "/audit", "agent")
    assert status == 403
    status, body = await call(api, "GET", "/audit", "admin")
    assert {(r["actor"], r["status"]) for r in body["audit"]} >= {("话务员", 201),
                                                                  ("话务员", 403)}


async def test_handoffs_are_listed_and_closed(api, rasa):
    h = api.backend.handoffs.open("rest:u9", "u9", "rest", "我要找人工")
    assert api.backend.handoffs.open("rest:u9", "u9", "rest", "人呢").id == h.id
    status, body = await call(api, "GET", "/handoffs", "agent")
    assert [x["id"] for x in body["handoffs"]] == [h.id]
    status, body = await call(api, "POST", f"/handoffs/{h.id}/reply", "agent",
                              json={"text": "您好，我是坐席小王，请问企业在哪个县？"})
    assert status == 200 and body["delivery"] == "polling" and body["delivered"] is True
    assert rasa.calls[-1] == ("staff", {"conversation_id": "u9", "agent": "agent:话务员",
                                        "text": "您好，我是坐席小王，请问企业在哪个县？"})
    for bad in ({"text": ""}, {"text": "长" * 1001}, {"text": 5}):
        status, body = await call(api, "POST", f"/handoffs/{h.id}/reply", "agent", json=bad)
        assert status == 400 and body["error"]["message"]
    status, _ = await call(api, "POST", "/handoffs/99999/reply", "agent", json={"text": "在吗"})
    assert status == 404
    status, body = await call(api, "POST", f"/handoffs/{h.id}/close", "agent")
    assert status == 200 and body["conversation_resumed"] is True
    assert rasa.calls[-2] == ("u9", [{"event": "resume"},
                                     {"event": "action", "name": "action_listen"}])
    assert rasa.calls[-1][1]["name"] == "EXTERNAL_handoff_closed"
    status, body = await call(api, "POST", f"/handoffs/{h.id}/close", "agent")
    assert status == 409 and "closed by agent:话务员" in body["error"]["detail"]
    status, _ = await call(api, "POST", f"/handoffs/{h.id}/reply", "agent",
                           json={"text": "在吗"})
    assert status == 409  # nobody writes into a conversation the bot has back
    status, body = await call(api, "GET", "/handoffs", "handler")
    assert status == 403


async def test_every_route_is_in_the_openapi_document(api):
    response = await api.get("/api/v1/openapi.yaml")
    assert response.status == 200
    doc = yaml.safe_load(await response.text())
    documented = {("/api/v1" + path, method.upper()) for path, ops in doc["paths"].items()
                  for method in ops if method in ("get", "post")}
    served = {(r.resource.canonical, r.method) for r in api.app.router.routes()
              if r.method in ("GET", "POST")}
    assert served == documented


def test_token_file_errors_name_the_entry(tmp_path):
    bad = tmp_path / "t.yml"
    bad.write_text("tokens:\n  - {name: x, role: handler, sha256: abc}\n", encoding="utf-8")
    with pytest.raises(TokenFileError, match="token 1: a handler needs a department"):
        load_tokens(bad)
    with pytest.raises(TokenFileError):
        add_token(tmp_path / "u.yml", "x", "root")
    assert load_tokens(tmp_path / "absent.yml") == {}


@pytest.fixture
async def api_kb(settings, tmp_path, rasa):
    from bot.kb.index import KnowledgeBase

    s = replace(settings, var=str(tmp_path))
    backend = build_backend(s)
    kb = KnowledgeBase(tmp_path / "kb", create=True)
    kb.ingest(settings.kb_source_dir)
    tokens_file = tmp_path / "tokens.yml"
    tokens = {"agent": add_token(tokens_file, "话务员", "agent"),
              "admin": add_token(tokens_file, "管理员", "admin")}
    app = create_app(backend, load_tokens(tokens_file),
                     RasaNotifier(RasaApi(str(rasa.make_url("")).rstrip("/"), "t0ken"),
                                  backend.service.store),
                     s.openapi_file.read_text(encoding="utf-8"), kb=kb)
    client = TestClient(TestServer(app))
    await client.start_server()
    client.backend, client.tokens = backend, tokens
    yield client
    await client.close()
    kb.close()


async def test_the_console_searches_the_knowledge_base(api_kb):
    status, body = await call(api_kb, "GET", "/kb/search?q=研发费用加计扣除比例是多少", "agent")
    assert status == 200 and body["hits"][0]["doc_id"] == "tech-rd-super-deduction-2023"
    assert body["hits"][0]["doc_no"] == "财政部 税务总局公告2023年第7号"
    status, body = await call(api_kb, "GET", "/kb/search?q=讲个笑话听听呗", "agent")
    assert status == 200 and body["hits"] == []
    status, body = await call(api_kb, "GET", "/kb/search?q=", "agent")
    assert status == 400


async def test_policy_matching_over_http(api_kb):
    status, body = await call(api_kb, "POST", "/kb/match", "agent", json={
        "region": "龙游县", "size": "small", "qualifications": ["高企"]})
    assert status == 200 and body["profile"]["qualifications"] == ["高新技术企业"]
    eligible = [p["doc_id"] for p in body["policies"] if p["eligible"]]
    assert "finance-loan-renewal-2024" in eligible  # small firms' loan renewal
    # only what grants something, with what it grants; never an expired policy
    assert all(p["benefit"] for p in body["policies"])
    assert "finance-qz-guarantee-reform-2021" not in eligible  # ended 2023-12-31
    status, body = await call(api_kb, "POST", "/kb/match", "agent", json={"size": "huge"})
    assert status == 400
    response = await api_kb.post("/api/v1/kb/match", data=b'{"employees": 1e400}',
                                 headers={**auth(api_kb, "agent"),
                                          "Content-Type": "application/json"})
    assert response.status == 400  # issue 16: not a 500


async def test_knowledge_gaps_are_for_admins(api_kb):
    api_kb.backend.kb_log.gap("等保测评多久一次", "rest:u1", "龙游县", "data")
    api_kb.backend.kb_log.feedback("研发加计扣除", "tech-rd-super-deduction-2023", True)
    status, body = await call(api_kb, "GET", "/kb/gaps", "admin")
    assert status == 200 and body["gaps"][0]["question"] == "等保测评多久一次"
    assert "sender_id" not in body["gaps"][0]
    assert body["feedback"] == [{"doc_id": "tech-rd-super-deduction-2023", "helpful": 1,
                                 "not_helpful": 0}]
    status, _ = await call(api_kb, "GET", "/kb/gaps", "agent")
    assert status == 403


async def test_readiness_and_metrics(api, rasa):
    api.backend.service.open(NEW, "rest:u1")
    response = await api.get("/api/v1/ready")
    body = await response.json()
    assert response.status == 200 and body["checks"]["database"] == "ok"
    text = await (await api.get("/api/v1/metrics")).text()
    assert 'govbot_tickets{status="assigned"} 1' in text
    assert "govbot_outbox_pending 0" in text and "govbot_up 1" in text
    assert "# TYPE govbot_tickets gauge" in text
    assert 'govbot_nlu_confidence_bucket{le="+Inf"} 0' in text
    assert "# TYPE govbot_turn_latency_ms histogram" in text
