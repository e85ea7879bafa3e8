"""The web pages and their JSON endpoints through aiohttp's test client: login, sessions,
CSRF, roles, the agent console, the handler queue, statistics and exports.

Rasa's HTTP API is a small stand-in server here (a fixed parse result, an echoing
REST channel); tests/test_browser.py drives the real one in Chromium.
"""

import io
import re
from datetime import datetime, timezone

import pytest
import yaml
from aiohttp import web
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot.db.schema import api_audit, demands, nlu_corrections
from bot.stats.log import record_demand
from bot.tickets.model import CHINA, Enterprise, NewTicket
from bot.tickets.store import Query
from bot.web.users import UserStore


async def test_login_sets_a_safe_cookie_and_sends_each_role_home(site):
    r, _ = await site.login("agent")
    assert r.headers["Location"] == "/console"
    cookie = r.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Strict" in cookie
    site.session.cookie_jar.clear()
    assert (await site.login("finance"))[0].headers["Location"] == "/queue"
    site.session.cookie_jar.clear()
    assert (await site.login("admin"))[0].headers["Location"] == "/dashboard"


async def test_wrong_passwords_and_the_rate_limit(site):
    for _ in range(5):
        r = await site.post("/login", data={"username": "agent", "password": "wrong"})
        assert r.status == 401 and "用户名或密码错误" in await r.text()
    r = await site.post("/login", data={"username": "agent", "password": site.password})
    assert r.status == 429 and "15分钟" in await r.text()


async def test_no_one_can_lock_someone_else_out(site):
    """Failures from one address block that name there only; spraying blocks an address."""
    def at(address):
        return {"X-Forwarded-For": address}  # set by nginx, the trusted proxy

    for _ in range(5):
        r = await site.post("/login", data={"username": "agent", "password": "wrong"},
                            headers=at("10.0.0.9"))
        assert r.status == 401
    r = await site.post("/login", data={"username": "agent", "password": site.password},
                        headers=at("10.0.0.9"))
    assert r.status == 429 and "联系管理员" in await r.text()
    r = await site.post("/login", data={"username": "agent", "password": site.password},
                        headers=at("10.0.0.5"), allow_redirects=False)
    assert r.status == 302  # the agent at their own desk still gets in (after a delay)
    users = UserStore(site.backend.engine)
    assert users.delay("agent") == 0.0  # a successful login forgot the failures
    for i in range(20):
        await site.post("/login", data={"username": f"user{i}", "password": "wrong"},
                        headers=at("10.0.0.7"))
    r = await site.post("/login", data={"username": "admin", "password": site.password},
                        headers=at("10.0.0.7"))
    assert r.status == 429
    for _ in range(6):
        users.login("finance", "wrong", "10.0.0.8")
    assert users.blocked("finance", "10.0.0.8") and 0 < users.delay("finance") <= 8
    assert users.unlock("finance") == 6 and not users.blocked("finance", "10.0.0.8")


def test_forwarded_addresses_count_only_from_a_trusted_proxy():
    from aiohttp.test_utils import make_mocked_request

    from bot.web.site import PROXIES, client_address

    def address(peer, forwarded):
        app = web.Application()
        app[PROXIES] = frozenset({"127.0.0.1"})
        request = make_mocked_request("POST", "/login", app=app,
                                      headers={"X-Forwarded-For": forwarded})
        return client_address(request.clone(remote=peer))

    assert address("127.0.0.1", "1.2.3.4") == "1.2.3.4"
    assert address("127.0.0.1", "6.6.6.6, 1.2.3.4") == "1.2.3.4"  # the nearest hop
    assert address("127.0.0.1", "1.2.3.4, 127.0.0.1") == "1.2.3.4"
    assert address("9.9.9.9", "1.2.3.4") == "9.9.9.9"  # anyone else: the header is ignored


async def test_each_role_sees_only_its_pages(site):
    r = await site.get("/dashboard", allow_redirects=False)
    assert r.status == 302 and r.headers["Location"].startswith("/login")
    await site.login("agent")
    assert (await site.get("/console")).status == 200
    denied = await site.get("/dashboard")
    assert denied.status == 403 and denied.content_type == "text/html"
    text = await denied.text()  # a page in the site's frame (issue 16), not bare text
    assert "您的账号无权访问此页面" in text and "仅对管理员开放" in text
    assert 'href="/console"' in text and "default-src 'self'" in denied.headers[
        "Content-Security-Policy"]
    assert "仅对部门办理人员、管理员开放" in await (await site.get("/queue")).text()
    assert (await site.get("/web/stats")).status == 403
    page = await site.get("/console")
    assert "default-src 'self'" in page.headers["Content-Security-Policy"]
    assert "http://" not in await page.text() and "https://" not in await page.text()


async def test_csrf_is_required_and_logout_ends_the_session(site):
    _, csrf = await site.login("agent")
    r = await site.post("/web/analyze", json={"text": "过桥资金"})
    assert r.status == 403
    r = await site.post("/web/analyze", json={"text": "过桥资金"}, headers={"X-CSRF-Token": csrf})
    assert r.status == 200
    r = await site.post("/logout", data={"csrf": csrf}, allow_redirects=False)
    assert r.status == 302
    assert (await site.get("/console", allow_redirects=False)).status == 302


async def test_the_console_analyses_and_opens_a_ticket_with_a_correction(site):
    _, csrf = await site.login("agent")
    h = {"X-CSRF-Token": csrf}
    r = await site.post("/web/analyze", json={"text": "龙游恒丰纸业过桥资金到期，银行不续贷"},
                        headers=h)
    a = await r.json()
    assert a["domain"]["name"] == "finance" and a["region"] == "龙游县"
    assert a["route"]["department"] == "龙游县金融工作服务中心"
    assert a["kb"] and a["kb"][0]["reply"].startswith("根据《")
    r = await site.post("/web/tickets", headers=h, json={
        "text": a["text"], "intent": "report_need", "domain": "legal",
        "subtopic": "contract_debt", "predicted_domain": "finance",
        "predicted_subtopic": "bridge_loan", "company": "龙游县恒丰纸业有限公司",
        "region": "龙游县", "contact": "王经理", "mobile": "13905701234"})
    body = await r.json()
    assert r.status == 201 and body["ticket"]["department"] == "龙游县司法局"
    assert body["ticket"]["channel"] == "hotline"
    with site.backend.engine.connect() as conn:
        (row,) = conn.execute(select(nlu_corrections)).all()
        assert (row.predicted_subtopic, row.subtopic, row.username) == (
            "bridge_loan", "contract_debt", "agent")
        assert conn.execute(select(func.count()).select_from(demands)).scalar_one() == 1
    r = await site.post("/web/tickets", headers=h, json={"domain": "legal",
                                                         "subtopic": "bridge_loan"})
    assert r.status == 400


@pytest.mark.parametrize("change,field,words", [
    ({"company": ""}, "company", "企业名称"),
    ({"region": "火星"}, "region", "县（市、区）"),
    ({"mobile": "1390570"}, "mobile", "11位数字"),
    ({"credit_code": "91330825MA2XXXXX1Y"}, "credit_code", "校验位"),
    ({"subtopic": "bridge_loan"}, "subtopic", "领域和子类"),
    ({"text": "  "}, "text", "来电内容")])
async def test_a_wrong_console_field_is_named(site, change, field, words):
    _, csrf = await site.login("agent")
    good = {"text": "货款拖欠半年了", "domain": "legal", "subtopic": "contract_debt",
            "company": "江山市宏达门业有限公司", "region": "江山市", "mobile": "13905701234"}
    r = await site.post("/web/tickets", headers={"X-CSRF-Token": csrf}, json={**good, **change})
    error = (await r.json())["error"]
    assert r.status == 400 and error["field"] == field and words in error["message"]
    assert site.backend.service.store.query(Query())[1] == 0  # nothing half-written
    r = await site.post("/web/tickets", headers={"X-CSRF-Token": csrf}, json=good)
    assert r.status == 201, await r.text()


async def test_corrections_export_as_rasa_training_data(site):
    _, csrf = await site.login("agent")
    await site.post("/web/tickets", headers={"X-CSRF-Token": csrf}, json={
        "text": "货款拖欠半年了", "domain": "legal", "subtopic": "contract_debt",
        "predicted_domain": "finance", "predicted_subtopic": "loan_financing",
        "company": "江山市宏达门业有限公司", "region": "江山市"})
    assert (await site.get("/web/corrections.yml")).status == 403
    assert (await site.get("/web/corrections")).status == 403
    site.session.cookie_jar.clear()
    _, csrf = await site.login("admin")
    h = {"X-CSRF-Token": csrf}
    (pending,) = (await (await site.get("/web/corrections")).json())["corrections"]
    assert (pending["source"], pending["by"], pending["text"]) == (
        "agent", "agent", "货款拖欠半年了")
    assert pending["predicted"] == "金融服务·融资贷款"
    assert pending["chosen"] == "法治服务·合同纠纷与账款拖欠"
    # only accepted corrections become training data
    assert yaml.safe_load(await (await site.get("/web/corrections.yml")).text())["nlu"] == []
    r = await site.post(f"/web/corrections/{pending['id']}/accept", headers=h)
    assert r.status == 200 and (await r.json())["status"] == "accepted"
    r = await site.post(f"/web/corrections/{pending['id']}/reject", headers=h)
    assert r.status == 409  # decided once
    assert (await site.post("/web/corrections/x/accept", headers=h)).status == 404
    assert (await site.get("/web/corrections")).status == 200
    assert (await (await site.get("/web/corrections")).json())["corrections"] == []
    text = await (await site.get("/web/corrections.yml")).text()
    assert yaml.safe_load(text)["nlu"] == [{"intent": "report_need",
                                            "metadata": {"subtopic": "contract_debt"},
                                            "examples": "- 货款拖欠半年了\n"}]


async def test_handlers_work_their_own_queue(site):
    service = site.backend.service
    mine = service.open(NewTicket(Enterprise("龙游县恒丰纸业有限公司"), "龙游", "finance",
                                  "bridge_loan", "过桥资金到期"), "test").ticket
    other = service.open(NewTicket(Enterprise("龙游县恒丰纸业有限公司"), "龙游", "legal",
                                   "contract_debt", "货款拖欠"), "test").ticket
    _, csrf = await site.login("finance")
    page = await (await site.get("/queue")).text()
    assert mine.number in page and other.number not in page
    h = {"X-CSRF-Token": csrf}
    r = await site.post(f"/web/tickets/{mine.number}/accept", json={"version": mine.version},
                        headers=h)
    assert r.status == 200 and (await r.json())["ticket"]["status"] == "in_progress"
    r = await site.post(f"/web/tickets/{other.number}/accept", json={"version": 2}, headers=h)
    assert r.status == 403


async def test_page_actions_are_audited_refusals_too(site):
    """Who, what, which ticket and the result, for the queue, the console and logins."""
    service = site.backend.service
    mine = service.open(NewTicket(Enterprise("龙游县恒丰纸业有限公司"), "龙游", "finance",
                                  "bridge_loan", "过桥资金到期"), "test").ticket
    other = service.open(NewTicket(Enterprise("龙游县恒丰纸业有限公司"), "龙游", "legal",
                                   "contract_debt", "货款拖欠"), "test").ticket
    await site.post("/login", data={"username": "finance", "password": "wrong"})
    _, csrf = await site.login("finance")
    h = {"X-CSRF-Token": csrf}
    await site.post(f"/web/tickets/{mine.number}/accept", json={"version": mine.version},
                    headers=h)
    await site.post(f"/web/tickets/{other.number}/accept", json={"version": 1}, headers=h)
    await site.post("/web/tickets", json={"domain": "legal"}, headers=h)  # not a handler's
    site.session.cookie_jar.clear()
    _, csrf = await site.login("agent")
    r = await site.post("/web/tickets", headers={"X-CSRF-Token": csrf}, json={
        "text": "货款拖欠半年了", "domain": "legal", "subtopic": "contract_debt",
        "company": "江山市宏达门业有限公司", "region": "江山市"})
    opened = (await r.json())["ticket"]["number"]
    await site.post("/web/analyze", headers={"X-CSRF-Token": csrf}, json={"text": "你好"})
    with site.backend.engine.connect() as conn:
        rows = [(r.actor, r.role, r.method, r.path, r.status, r.number) for r in
                conn.execute(select(api_audit).order_by(api_audit.c.id)).all()]
    assert rows == [
        ("anonymous", "-", "POST", "/login", 401, None),
        ("finance", "-", "POST", "/login", 302, None),
        ("finance", "handler", "POST", f"/web/tickets/{mine.number}/accept", 200, mine.number),
        ("finance", "handler", "POST", f"/web/tickets/{other.number}/accept", 403,
         other.number),
        ("finance", "handler", "POST", "/web/tickets", 403, None),
        ("agent", "-", "POST", "/login", 302, None),
        ("agent", "agent", "POST", "/web/tickets", 201, opened)]  # analyze changes nothing


async def test_the_status_page_needs_the_mobile_tail(site):
    t = site.backend.service.open(NewTicket(Enterprise("龙游县恒丰纸业有限公司", None, "王",
                                                       "13905701234"), "龙游", "finance",
                                            "bridge_loan", "过桥"), "test").ticket
    r = await site.post(f"/status/{t.number}", data={"tail": "0000"})
    assert "不正确" in await r.text() and "已分派" not in await r.text()
    assert site.backend.lookup.blocked(t.number) is False  # one failure of five, shared
    r = await site.post(f"/status/{t.number}", data={"tail": "1234"})
    text = await r.text()
    assert "已分派" in text and "龙游县金融工作服务中心" in text and "13905701234" not in text


async def test_web_chat_is_proxied_to_the_rest_channel(site):
    r = await site.post("/chat/send", json={"sender": "abcdef123456", "message": "你好"})
    (reply,) = await r.json()
    assert "QZ-20261126-0001" in reply["text"]
    r = await site.post("/chat/send", json={"sender": "x", "message": "你好"})
    assert r.status == 400


def seed(backend):
    """Demands and tickets of known numbers for the statistics."""
    e = backend.engine
    for region, domain, sub, n in (("龙游县", "finance", "bridge_loan", 3),
                                   ("江山市", "finance", "loan_financing", 2),
                                   ("龙游县", "talent", "recruitment", 1)):
        for _ in range(n):
            record_demand(e, "report_need", domain, sub, region, "wechat", "招工难 贷款难")
    service = backend.service
    t = service.open(NewTicket(Enterprise("龙游县恒丰纸业有限公司", None, "王经理", "13905701234"),
                               "龙游", "finance", "bridge_loan", "过桥资金到期"), "test").ticket
    t = service.accept(t.number, "h", t.version)
    t = service.resolve(t.number, "h", t.version, "已续贷")
    service.rate(t.number, "u", 2, "利率高")
    service.open(NewTicket(Enterprise("江山市宏达门业有限公司"), "江山", "data",
                           "cross_border_data", "数据出境评估"), "test")  # escalated: authority


async def test_statistics_match_the_database(site):
    seed(site.backend)
    await site.login("admin")
    data = await (await site.get("/web/stats")).json()
    assert {r["key"]: r["count"] for r in data["domains"]} == {"finance": 5, "talent": 1}
    assert {r["key"]: r["count"] for r in data["regions"]} == {"龙游县": 4, "江山市": 2}
    assert sum(r["count"] for r in data["trend"]) == 6
    loop = data["closed_loop"]
    assert (loop["tickets"], loop["resolved"], loop["reopened"], loop["escalated"]) == (2, 1, 1, 1)
    assert loop["satisfaction"]["2"] == 1 and loop["reopen_rate"] == 1.0
    assert [r["subtopic"] for r in data["escalated"]] == ["cross_border_data"]
    data = await (await site.get("/web/stats?region=江山市&period=month")).json()
    assert {r["key"]: r["count"] for r in data["domains"]} == {"finance": 2}
    assert (await site.get("/web/stats?period=year")).status == 400
    assert (await site.get("/web/stats?start=2026-13-01")).status == 400


async def test_exports_in_csv_and_xlsx_mask_personal_data(site):
    seed(site.backend)
    await site.login("admin")
    r = await site.get("/web/export/domains.xlsx")
    sheet = load_workbook(io.BytesIO(await r.read())).active
    assert [list(row) for row in sheet.iter_rows(values_only=True)] == [
        ["领域", "数量"], ["金融服务", 5], ["人才服务", 1]]  # Chinese headers and names
    assert sheet.title == "按领域"
    csv_text = (await (await site.get("/web/export/tickets.csv")).read()).decode("utf-8-sig")
    assert csv_text.startswith("工单号,登记时间,状态,地区,领域,子类,承办部门,企业,联系人,手机,渠道")
    for code in ("finance", "bridge_loan", "assigned", ",rest"):
        assert code not in csv_text
    channels = (await (await site.get("/web/export/channels.csv")).read()).decode("utf-8-sig")
    assert channels.splitlines()[0] == "渠道,数量" and "rest" not in channels
    assert "139****1234" in csv_text and "13905701234" not in csv_text
    assert "王**" in csv_text and "王经理" not in csv_text
    personal = (await (await site.get("/web/export/tickets.csv?personal=1")).read()).decode()
    assert "13905701234" in personal
    assert (await site.get("/web/export/nothing.csv")).status == 404


async def test_statistics_count_china_days(site):
    e = site.backend.engine
    late = datetime(2026, 11, 25, 16, 30, tzinfo=timezone.utc)  # 00:30 on 26 Nov in China
    record_demand(e, "report_need", "finance", None, "龙游县", "rest", "x", at=late)
    await site.login("admin")
    data = await (await site.get("/web/stats?start=2026-11-26&end=2026-11-26")).json()
    assert data["trend"] == [{"period": "2026-11-26", "domain": "finance", "count": 1}]
    assert late.astimezone(CHINA).date().isoformat() == "2026-11-26"


async def test_the_web_chat_receives_notifications_by_polling(site):
    r = await site.get("/chat/updates", params={"sender": "abcdef123456", "after": "150"})
    body = await r.json()
    assert [m["text"] for m in body["messages"]] == ["您的工单已办结。", "请打分"]
    assert body["messages"][1]["buttons"][0]["title"] == "5分" and body["after"] == 200.6
    r = await site.get("/chat/updates", params={"sender": "abcdef123456", "after": "200.6"})
    assert (await r.json())["messages"] == []
    assert (await site.get("/chat/updates", params={"sender": "x"})).status == 400


async def test_an_agent_proposes_a_standard_question_and_an_admin_approves_it(site):
    question = "衢州小微企业首次贷款有没有专门的贴息"
    assert site.kb.search(question) == [] or site.kb.search(question)[0].get("faq_id") is None
    _, csrf = await site.login("agent")
    pair = {"question": question, "answer": "首次贷款贴息以所在县（市、区）当年通知为准，"
            "可咨询当地金融工作服务中心。", "doc_id": "finance-loan-renewal-2024",
            "section": "适用对象"}
    bad = await site.post("/web/faq", json={**pair, "section": "不存在"},
                          headers={"X-CSRF-Token": csrf})
    assert bad.status == 400 and "不存在" in (await bad.json())["error"]["message"]
    bad = await site.post("/web/faq", data="not json", headers={"X-CSRF-Token": csrf})
    assert bad.status == 400
    r = await site.post("/web/faq", json=pair, headers={"X-CSRF-Token": csrf})
    assert r.status == 201
    proposal = (await r.json())["id"]
    assert (await site.get("/web/faq")).status == 403  # agents propose, admins decide
    site.session.cookie_jar.clear()
    _, csrf = await site.login("admin")
    listed = (await (await site.get("/web/faq")).json())["proposals"]
    assert [(p["id"], p["proposed_by"]) for p in listed] == [(proposal, "agent")]
    r = await site.post(f"/web/faq/{proposal}/approve", headers={"X-CSRF-Token": csrf})
    assert r.status == 200 and (await r.json())["faq_id"] == f"console-{proposal}"
    again = await site.post(f"/web/faq/{proposal}/approve", headers={"X-CSRF-Token": csrf})
    assert again.status == 409
    # written to the knowledge-base folder, ingested, and answered from now on
    assert "console-" in (site.policies / "faq" / "approved.yml").read_text(encoding="utf-8")
    top = site.kb.search(question)[0]
    assert top["faq_id"] == f"console-{proposal}" and top["answer"] == pair["answer"]
    assert (await (await site.get("/web/faq")).json())["proposals"] == []


async def test_no_export_cell_starts_a_formula(site):
    """Issue 16: a company name or an unanswered question that starts like a formula is
    text in every export (CSV and XLSX)."""
    service = site.backend.service
    service.open(NewTicket(Enterprise("=1+1有限公司", contact="@王", mobile="13905701234"),
                           "龙游", "finance", "bridge_loan", "=HYPERLINK(\"http://x\",\"点我\")"),
                 "test")
    site.backend.kb_log.gap('=HYPERLINK("http://x","点我")', "rest:u1", "龙游县", "finance")
    await site.login("admin")
    for table in ("tickets", "gaps"):
        csv_text = (await (await site.get(f"/web/export/{table}.csv")).read()).decode("utf-8-sig")
        cells = [c for line in csv_text.splitlines()[1:] for c in line.split(",")]
        assert cells and not any(c.lstrip('"').startswith(("=", "+", "-", "@")) for c in cells)
        book = load_workbook(io.BytesIO(await (await site.get(f"/web/export/{table}.xlsx")).read()))
        values = [cell for row in book.active.iter_rows() for cell in row]
        assert not any(c.data_type == "f" for c in values)
        assert any(str(c.value).startswith(("'=", "=")) and c.data_type == "s" for c in values)


async def test_malformed_web_requests_get_a_chinese_400(site):
    """Issue 16: bad bodies and parameters answer 4xx with a message, never 500."""
    number = site.backend.service.open(NewTicket(Enterprise("龙游县恒丰纸业有限公司"), "龙游",
                                                 "finance", "bridge_loan", "过桥"), "test"
                                       ).ticket.number
    _, csrf = await site.login("admin")
    h = {"X-CSRF-Token": csrf}
    for body in ({"version": "abc"}, [1]):
        r = await site.post(f"/web/tickets/{number}/accept", json=body, headers=h)
        assert r.status == 400 and (await r.json())["error"]["message"]
    r = await site.post(f"/web/tickets/{number}/accept", data="not json",
                        headers={**h, "Content-Type": "application/json"})
    assert r.status == 400
    r = await site.post("/web/analyze", data="not json",
                        headers={**h, "Content-Type": "application/json"})
    assert r.status == 400 and "请求格式有误" in (await r.json())["error"]["message"]
    r = await site.get("/web/export/trend.csv?period=bogus")
    assert r.status == 400 and "统计周期" in (await r.json())["error"]["message"]


BAD_BODIES = [b"not json", b"[1]", b"null", b'{"version": "abc", "text": 5, "reason": []}',
              b'{"version": 1e400}', b"{}",
              b'{"domain": {}, "subtopic": [], "company": 1, "region": null}']


async def test_every_page_post_answers_bad_bodies_with_a_chinese_4xx(site):
    """Every state-changing page route, each malformed body: 4xx, JSON, Chinese; no 500."""
    number = site.backend.service.open(NewTicket(Enterprise("龙游县恒丰纸业有限公司", None, "王",
                                                            "13905701234"), "龙游县",
                                                 "finance", "bridge_loan", "过桥"), "test"
                                       ).ticket.number
    site.backend.handoffs.open("rest:u1", "u1", "rest", "转人工")
    _, csrf = await site.login("admin")
    fill = {"number": number, "id": "1", "action": "accept"}
    urls = {r.resource.canonical.format(**fill) for r in site.app.router.routes()
            if r.method == "POST" and r.resource.canonical.startswith("/web/")}
    urls |= {f"/web/tickets/{number}/{a}" for a in ("resolve", "return", "escalate")}
    urls -= {"/web/handoffs/1/close"}  # takes no body
    assert len(urls) >= 9
    for url in sorted(urls):
        for body in BAD_BODIES:
            r = await site.post(url, data=body, headers={"X-CSRF-Token": csrf,
                                                         "Content-Type": "application/json"})
            assert 400 <= r.status < 500, (url, body[:40], r.status, await r.text())
            message = (await r.json())["error"]["message"]
            assert re.search(r"[\u4e00-\u9fff]", message), (url, body[:40], message)
        long = {"text": "字" * 3000, "reply": "字" * 3000, "reason": "字" * 3000}
        r = await site.post(url, json=long, headers={"X-CSRF-Token": csrf})
        assert r.status < 500, (url, "long text", await r.text())  # a long letter is fine


async def test_corrections_cannot_inject_yaml(site):
    """Issue 16: an intent that carries a line break and keys stays one quoted value."""
    _, csrf = await site.login("agent")
    await site.post("/web/tickets", headers={"X-CSRF-Token": csrf}, json={
        "text": "货款拖欠", "domain": "legal", "subtopic": "contract_debt",
        "intent": "report_need\n- intent: greet\n  examples: |\n    - 你好",
        "predicted_domain": "finance", "predicted_subtopic": "loan_financing",
        "company": "江山市宏达门业有限公司", "region": "江山市"})
    site.session.cookie_jar.clear()
    _, csrf = await site.login("admin")
    (pending,) = (await (await site.get("/web/corrections")).json())["corrections"]
    await site.post(f"/web/corrections/{pending['id']}/accept", headers={"X-CSRF-Token": csrf})
    text = await (await site.get("/web/corrections.yml")).text()
    blocks = yaml.safe_load(text)["nlu"]
    # an intent outside the two demand intents is stored as report_need
    assert blocks == [{"intent": "report_need", "metadata": {"subtopic": "contract_debt"},
                       "examples": "- 货款拖欠\n"}]


async def test_escalations_show_their_own_target_and_mask_free_text(site):
    """Issue 16: each escalation row names the department it went to (not where the
    ticket is now), and free text in default exports hides mobiles."""
    service = site.backend.service
    t = service.open(NewTicket(Enterprise("龙游县恒丰纸业有限公司"), "龙游", "finance",
                               "bridge_loan", "过桥资金到期，联系人手机13905701234"), "test").ticket
    first = service.escalate(t.number, "handler:finance", t.version, "超出县级权限")
    second = service.escalate(t.number, "handler:city", first.version, "超出市级权限")
    assert first.department != second.department
    await site.login("admin")
    csv_text = (await (await site.get("/web/export/escalated.csv")).read()).decode("utf-8-sig")
    rows = [line for line in csv_text.splitlines() if t.number in line]
    assert len(rows) == 2
    assert second.department in rows[0] and first.department in rows[1]  # newest first
    assert "13905701234" not in csv_text and "139****1234" in csv_text
