"""A common problem on the dashboard becomes a policy-blockage report that travels county →
city → province in the department pages, in a real headless browser against the real
servers; every enterprise of the group hears the province's answer.

Screenshot: test-output/screenshots/commons.png.
"""

import uuid
from dataclasses import replace

import pytest
from conftest import PASSWORD, eventually
from playwright.async_api import expect
from sqlalchemy import create_engine

from bot.regions import region_table
from bot.tickets.factory import build_backend
from bot.tickets.model import REPORT_CHANNEL, Enterprise, NewTicket, Status
from bot.web.users import UserError, UserStore

pytestmark = pytest.mark.browser

SAID = ["贺村镇的公办小学说学位满了，员工孩子被分到二十公里外，能不能协调就近入学",
        "员工子女在贺村镇上学的问题：学校说学位满了，要分到很远的地方去",
        "贺村镇小学学位不够，我们好几个员工的孩子被统筹到外镇读书，没有校车",
        "贺村镇学校学位满了，员工小孩入学的事能不能帮忙协调"]


@pytest.fixture(scope="module")
def levels(web_users, services):
    """The ticket service of the running servers, and a handler each for the city and the
    province departments a 江山市 schooling report goes to."""
    backend = build_backend(replace(services.settings, database_url=services.database_url))
    rules, region = backend.service.rules, region_table().get("江山市")
    city = rules.escalation_target(region, "county")
    province = rules.escalation_target(region, "city")
    users = UserStore(create_engine(services.database_url))
    for name, dept in (("b-city", city.department), ("b-province", province.department)):
        try:
            users.add(name, PASSWORD, "handler", dept)
        except UserError:
            pass  # created by an earlier run in this session
    return backend.service, city.department, province.department


async def test_a_common_problem_is_reported_escalated_and_answered(browser, web_users, levels,
                                                                  signed_in, shots):
    service, city, province = levels
    tag = uuid.uuid4().hex[:4]
    members = [service.open(NewTicket(
        Enterprise(f"江山市第{n}{tag}机械有限公司", None, "王经理", "13905701234"), "江山市",
        "talent", "children_schooling", text, sender_id=f"rest:s{tag}{n}",
        conversation_id=f"s{tag}{n}"), "test").ticket for n, text in enumerate(SAID)]

    # the centre's administrator sees the group and reports it with one click
    page = await signed_in(browser, web_users, "b-admin")
    await expect(page.locator("body[data-loaded='1']")).to_have_count(1)
    card = page.locator("#commons .common-problem", has_text=f"江山市第0{tag}机械有限公司")
    await expect(card).to_contain_text("4家企业 · 4条诉求")
    await expect(card).to_contain_text("人才服务·子女就学")
    await expect(card.locator(".samples li")).to_have_count(3)
    # staff check the proposal demand by demand: one is not this problem, say
    await card.locator(".members summary").click()
    boxes = card.locator(".members input[type=checkbox]")
    await expect(boxes).to_have_count(4)
    for n in (1, 2, 3):  # one enterprise alone is no common problem: refused, said why
        await card.locator(f".members input[value='{members[n].number}']").uncheck()
    await card.get_by_role("button", name="上报上级（堵点上报）").click()
    await expect(card.get_by_role("alert")).to_have_text(
        "共性问题至少包括两家企业的诉求，请至少勾选两家企业。")
    for n in (1, 2):
        await card.locator(f".members input[value='{members[n].number}']").check()
    await card.get_by_role("button", name="上报上级（堵点上报）").click()
    await expect(card.locator(".reported")).to_contain_text("已生成堵点上报工单")
    await expect(card.locator(".reported")).to_contain_text(f"{city}（市级）")
    await page.locator("#commons").screenshot(path=shots / "commons.png")
    number = await card.get_attribute("data-report")
    report = service.store.get(number)
    assert (report.channel, report.level, report.status) == (REPORT_CHANNEL, "city",
                                                            Status.ESCALATED)
    assert service.store.related(number) == sorted(t.number for t in members[:3])
    assert service.store.reports_of([members[3].number]) == {}  # the unticked one
    await page.reload()  # the group now shows its report instead of the button
    card = page.locator("#commons .common-problem", has_text=f"江山市第0{tag}机械有限公司")
    await expect(card.locator(".reported")).to_contain_text(f"已上报：工单 {number}")
    # (the unticked demand may be proposed again later, with other demands)
    await expect(card.get_by_role("button", name="上报上级（堵点上报）")).to_have_count(0)
    await page.context.close()

    # the city cannot solve it alone: 提级 to the province, with the reason
    page = await signed_in(browser, web_users, "b-city")
    ticket = page.locator(f"li.ticket[data-number='{number}']")
    await expect(ticket).to_contain_text("【共性问题上报】3家企业")
    assert members[3].number not in await ticket.inner_text()
    await ticket.get_by_role("button", name="提级", exact=True).click()
    await expect(ticket.locator(".escalate-to")).to_have_text(f"{province}（省级）")
    await ticket.get_by_label("提级原因（超出本级权限或需上级协调的，请说明，必填）").fill(
        "学位扩容需省级统筹编制和资金")
    await ticket.get_by_role("button", name="确认提级").click()
    await expect(ticket.locator(".ticket-done")).to_contain_text("已提级")
    await page.context.close()

    # the province accepts and answers
    page = await signed_in(browser, web_users, "b-province")
    ticket = page.locator(f"li.ticket[data-number='{number}']")
    await ticket.get_by_role("button", name="受理").click()
    await expect(ticket.locator(".status")).to_have_text("办理中")
    await ticket.get_by_label("办理结果（办结后告知企业，必填）").fill(
        "已批准贺村镇小学增设4个班，明年春季开学起就近入学")
    await ticket.get_by_role("button", name="办结").click()
    await expect(ticket.locator(".status")).to_have_text("已办结，待您评价")
    await page.context.close()

    # the trail: escalations with their actors, and every enterprise told the answer
    trail = [(e.to_status.value, e.data.get("level"), e.actor) for e in
             service.store.events(number) if e.kind == "transition"]
    assert [t[:2] for t in trail] == [("assigned", "county"), ("escalated", "city"),
                                      ("escalated", "province"), ("in_progress", None),
                                      ("resolved", None)]
    assert trail[1][2] == "admin:b-admin" and trail[2][2] == "handler:b-city"
    for t in members[:3]:
        def told(t=t):
            events = service.store.events(t.number)
            return [e for e in events if e.kind == "notification"
                    and e.data.get("status") == "report_answer"] and events
        events = await eventually(told, timeout=30)
        answer = [e for e in events if e.kind == "report_answer"]
        assert answer and "增设4个班" in answer[0].data["text"]


async def test_the_centre_reviews_a_low_rating(browser, web_users, levels, signed_in):
    service = levels[0]
    tag = uuid.uuid4().hex[:4]
    t = service.open(NewTicket(Enterprise(f"江山市{tag}五金厂"), "江山市", "finance",
                               "bridge_loan", "过桥资金到期，银行不续贷"), "test").ticket
    t = service.accept(t.number, "handler:x", t.version)
    t = service.resolve(t.number, "handler:x", t.version, "请企业自行与银行沟通")
    service.rate(t.number, "rest:x", 1, "根本没有协调")
    page = await signed_in(browser, web_users, "b-admin")
    await expect(page.locator("body[data-loaded='1']")).to_have_count(1)
    item = page.locator(f"#reviews .review[data-number='{t.number}']")
    await expect(item).to_contain_text("1分")
    await expect(item).to_contain_text("根本没有协调")
    await expect(item).to_contain_text("请企业自行与银行沟通")
    await item.get_by_role("button", name="提交复核意见").click()
    await expect(item.get_by_role("alert")).to_have_text("请填写复核意见。")
    await item.get_by_label("复核意见（必填）").fill("部门未实质协调，已督促重新办理")
    await item.get_by_role("button", name="提交复核意见").click()
    await expect(page.locator("#reviews")).to_contain_text(f"工单 {t.number} 的复核意见已记录。")
    assert [e.data["text"] for e in service.store.events(t.number)
            if e.kind == "reviewed"] == ["部门未实质协调，已督促重新办理"]
    assert t.number not in [r.number for r, _ in service.store.pending_reviews()]
