"""The department handler's queue page (``/queue``) and its actions: 受理, 办结, 退回 and
提级 with the same rules as the department API, the enterprise's contact in full for the
own department, statuses in Chinese."""

import re
from datetime import date

from sqlalchemy import update

from bot.db.schema import tickets
from bot.tickets.model import STATUS_NAMES, Enterprise, NewTicket, Status

FINANCE = "龙游县金融工作服务中心"
CITY_OFFICE = "衢州市营商环境建设办公室"


def open_ticket(site, domain="finance", subtopic="bridge_loan", text="过桥资金到期",
                enterprise=None):
    enterprise = enterprise or Enterprise("龙游县恒丰纸业有限公司", None, "王经理", "13905701234")
    return site.backend.service.open(
        NewTicket(enterprise, "龙游县", domain, subtopic, text), "test").ticket


def reasons(site, number, to_status):
    return [e.data.get("reason") for e in site.backend.service.store.events(number)
            if e.kind == "transition" and e.to_status == to_status]


async def test_the_queue_shows_chinese_statuses_and_the_full_contact(site):
    mine = open_ticket(site, enterprise=Enterprise(
        "龙游县恒丰纸业有限公司", "91330825MA2B12345B", "王经理", "13905701234"))
    waiting = open_ticket(site, enterprise=Enterprise("龙游县宏达机械有限公司"),
                          text="想了解应急转贷资金怎么申请")
    mine = site.backend.service.accept(mine.number, "test", mine.version)
    other = open_ticket(site, enterprise=Enterprise("江山市宏达门业有限公司", None, "赵总",
                                                    "13700000000"),
                        domain="legal", subtopic="contract_debt", text="货款拖欠")
    assert other.department != FINANCE
    await site.login("finance")
    r = await site.get("/queue")
    assert r.status == 200
    html = await r.text()
    assert mine.number in html and waiting.number in html and other.number not in html
    assert "江山市宏达门业有限公司" not in html and "13700000000" not in html
    assert STATUS_NAMES["in_progress"] in html  # 办理中
    assert STATUS_NAMES["assigned"] in html  # 已分派…
    text = re.sub(r"<[^>]*>", " ", html)  # what a person reads (attributes dropped)
    for code in Status:  # no raw status codes
        assert not re.search(rf"(?<![A-Za-z_]){code.value}(?![A-Za-z_])", text), code.value
    assert "龙游县恒丰纸业有限公司" in html and "王经理" in html
    assert 'href="tel:13905701234"' in html and ">13905701234<" in html
    assert "91330825MA2B12345B" in html
    assert "金融服务·应急转贷（过桥）与抽贷断贷" in html and "龙游县" in html
    assert "办结时限" in html and mine.resolution_due.isoformat() in html
    assert f"{FINANCE}（县级）" in html
    assert f"将提级至：<span class=\"escalate-to\">{CITY_OFFICE}（市级）</span>" in html
    assert "<script src=\"/static/queue.js\"></script>" in html and "<style" not in html


async def test_an_admin_sees_every_department_with_long_requests_expandable(site):
    text = "我们是龙游县的纸业企业，" + "货款被拖欠半年多，多次催讨无果，" * 10
    legal = open_ticket(site, domain="legal", subtopic="contract_debt", text=text)
    finance = open_ticket(site)
    await site.login("admin")
    html = await (await site.get("/queue")).text()
    assert legal.number in html and finance.number in html and "全部部门" in html
    assert "展开全文" in html and text in html  # the full request, behind <details>
    assert STATUS_NAMES["assigned"] in html


def card_of(html, number):
    """The <li> of ticket ``number`` in the queue page."""
    start = html.rindex("<li", 0, html.index(f'data-number="{number}"'))
    return html[start:html.index("</li>", start)]


async def test_overdue_tickets_are_marked(site):
    late = open_ticket(site)
    in_time = open_ticket(site, enterprise=Enterprise("龙游县宏达机械有限公司"))
    assert late.number != in_time.number
    with site.backend.engine.begin() as conn:
        conn.execute(update(tickets).where(tickets.c.number == late.number)
                     .values(resolution_due=date(2020, 1, 2)))
    await site.login("finance")
    html = await (await site.get("/queue")).text()
    card = card_of(html, late.number)
    assert "is-overdue" in card and "2020-01-02" in card
    assert '<strong class="overdue-mark">逾期</strong>' in card
    card = card_of(html, in_time.number)
    assert "is-overdue" not in card and '<strong class="overdue-mark" hidden>' in card


async def test_a_handler_returns_a_ticket_with_a_reason(site):
    t = open_ticket(site)
    _, csrf = await site.login("finance")
    h = {"X-CSRF-Token": csrf}
    r = await site.post(f"/web/tickets/{t.number}/return",
                        json={"version": t.version, "reason": "  "}, headers=h)
    assert r.status == 400
    assert (await r.json())["error"]["message"] == "请填写退回原因。"
    r = await site.post(f"/web/tickets/{t.number}/return", json={"version": t.version},
                        headers=h)
    assert r.status == 400 and "退回原因" in (await r.json())["error"]["message"]
    assert site.backend.service.store.get(t.number).status is Status.ASSIGNED
    reason = "属于法律服务事项，应由司法局办理"
    r = await site.post(f"/web/tickets/{t.number}/return",
                        json={"version": t.version, "reason": reason}, headers=h)
    assert r.status == 200, await r.text()
    body = await r.json()
    assert body["ticket"]["status"] == "returned"
    assert body["card"]["status_name"] == STATUS_NAMES["returned"]
    assert body["card"]["actions"] == [] and "已退回" in body["message"]
    assert site.backend.service.store.get(t.number).status is Status.RETURNED
    assert reasons(site, t.number, Status.RETURNED) == [reason]
    html = await (await site.get("/queue")).text()
    assert t.number not in html  # no longer this department's to do


async def test_a_handler_escalates_to_the_level_above(site):
    t = open_ticket(site)
    assert (t.level, t.department) == ("county", FINANCE)
    _, csrf = await site.login("finance")
    h = {"X-CSRF-Token": csrf}
    r = await site.post(f"/web/tickets/{t.number}/escalate",
                        json={"version": t.version}, headers=h)
    assert r.status == 400
    assert (await r.json())["error"]["message"] == "请填写提级原因。"
    reason = "涉及跨县市转贷资金，需市级协调"
    r = await site.post(f"/web/tickets/{t.number}/escalate",
                        json={"version": t.version, "reason": reason}, headers=h)
    assert r.status == 200, await r.text()
    body = await r.json()
    assert f"已提级至{CITY_OFFICE}（市级）" in body["message"]
    after = site.backend.service.store.get(t.number)
    assert after.status is Status.ESCALATED
    assert (after.level, after.department) == ("city", CITY_OFFICE)
    assert reasons(site, t.number, Status.ESCALATED) == [reason]
    # now another department's: the county handler can no longer act on it
    r = await site.post(f"/web/tickets/{t.number}/accept",
                        json={"version": after.version}, headers=h)
    assert r.status == 403


async def test_resolve_needs_a_reply_and_stale_versions_are_refused(site):
    t = open_ticket(site)
    _, csrf = await site.login("finance")
    h = {"X-CSRF-Token": csrf}
    r = await site.post(f"/web/tickets/{t.number}/accept", json={"version": "x"}, headers=h)
    assert r.status == 400 and "版本号" in (await r.json())["error"]["message"]
    r = await site.post(f"/web/tickets/{t.number}/accept", json={"version": t.version},
                        headers=h)
    assert r.status == 200
    card = (await r.json())["card"]
    assert card["status_name"] == "办理中" and set(card["actions"]) == {
        "resolve", "return", "escalate"}
    r = await site.post(f"/web/tickets/{t.number}/accept", json={"version": t.version + 1},
                        headers=h)  # accepted already: the status named in Chinese
    assert r.status == 409 and "办理中" in (await r.json())["error"]["message"]
    assert "in_progress" not in (await r.json())["error"]["message"]
    r = await site.post(f"/web/tickets/{t.number}/resolve",
                        json={"version": t.version + 1, "reply": ""}, headers=h)
    assert r.status == 400 and (await r.json())["error"]["message"] == "请填写办理结果。"
    r = await site.post(f"/web/tickets/{t.number}/resolve",
                        json={"version": t.version, "reply": "已协调"}, headers=h)
    assert r.status == 409 and "他人更新" in (await r.json())["error"]["message"]
    r = await site.post(f"/web/tickets/{t.number}/resolve",
                        json={"version": t.version + 1, "reply": "已协调应急转贷资金"},
                        headers=h)
    assert r.status == 200 and (await r.json())["ticket"]["status"] == "resolved"
    r = await site.post(f"/web/tickets/{t.number}/reopen", json={"version": 1}, headers=h)
    assert r.status == 404


async def test_a_handler_cannot_return_or_escalate_another_departments_ticket(site):
    other = open_ticket(site, domain="legal", subtopic="contract_debt", text="货款拖欠")
    assert other.department != FINANCE
    _, csrf = await site.login("finance")
    h = {"X-CSRF-Token": csrf}
    for action in ("return", "escalate"):
        r = await site.post(f"/web/tickets/{other.number}/{action}",
                            json={"version": other.version, "reason": "不归我们管"},
                            headers=h)
        assert r.status == 403
        assert (await r.json())["error"]["message"] == "该工单不属于您所在的部门。"
    after = site.backend.service.store.get(other.number)
    assert after.status is Status.ASSIGNED and after.version == other.version
    r = await site.post(f"/web/tickets/{other.number}/return",
                        json={"version": other.version, "reason": "x"})  # no CSRF token
    assert r.status == 403


async def test_nothing_above_the_province(site):
    t = open_ticket(site)
    service = site.backend.service
    t = service.escalate(t.number, "test", t.version, "市级协调")
    t = service.escalate(t.number, "test", t.version, "省级协调")
    assert t.level == "province"
    _, csrf = await site.login("admin")
    html = await (await site.get("/queue")).text()
    assert 'class="act" data-action="escalate" hidden' in card_of(html, t.number)
    r = await site.post(f"/web/tickets/{t.number}/escalate",
                        json={"version": t.version, "reason": "再提级"},
                        headers={"X-CSRF-Token": csrf})
    assert r.status == 400 and "省级" in (await r.json())["error"]["message"]
