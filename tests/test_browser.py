"""The web pages in a real headless browser (Debian's Chromium driven by Playwright),
against the real servers (Rasa, the action server, the web application).

Screenshots of each page are saved in test-output/screenshots/ for review.
"""

import io
import uuid
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.async_api import expect
from sqlalchemy import create_engine, func, select

from bot import corrections
from bot.db.schema import demands
from bot.kb.log import KbLog
from bot.stats.log import record_demand
from bot.taxonomy import taxonomy

pytestmark = pytest.mark.browser


async def test_an_agent_analyses_a_call_and_opens_a_ticket(browser, web_users, signed_in,
                                                           shots):
    page = await signed_in(browser, web_users, "b-agent")
    await expect(page).to_have_url(f"{web_users}/console")
    await page.fill("#text", "龙游县恒丰纸业有限公司反映研发费用加计扣除不知道怎么申报，比例是多少")
    await page.keyboard.press("Control+Enter")
    await expect(page.locator("#confidence")).to_contain_text("置信度")
    assert await page.locator("#domain option:checked").inner_text() in ("科创服务", "政策服务")
    await expect(page.locator("#kb .kb-hit").first).to_contain_text("研发费用")
    await expect(page.locator("#kb .kb-hit").first).to_contain_text("100%")  # the asked ratio
    await expect(page.locator("#kb .cite").first).to_contain_text("财")  # 财税〔2015〕…/财政部…
    await expect(page.locator("#company")).to_have_value("龙游县恒丰纸业有限公司")
    # the answer is worth keeping: proposed as a standard question for the admin to approve
    await page.locator("#kb .kb-hit button.propose").first.click()
    await page.locator("#kb .faq-form textarea[name=answer]").fill(
        "研发费用未形成无形资产的，按实际发生额的100%在税前加计扣除。")
    await page.locator("#kb .faq-form button[type=submit]").click()
    await expect(page.locator("#kb .faq-form")).to_contain_text("已提交，待管理员审核")
    # at 1366×768 the main flow needs no scrolling: form, its button and similar tickets
    for selector in ("#ticket button[type=submit]", "#similar", "#mobile"):
        box = await page.locator(selector).bounding_box()
        assert box and box["y"] + box["height"] <= 768, (selector, box)
    await page.fill("#contact", "王经理")
    await page.fill("#mobile", "1390570")  # a digit short: the field is named
    await page.keyboard.press("Alt+s")
    await expect(page.locator("#mobile-error")).to_contain_text("11位数字")
    await expect(page.locator("#mobile")).to_have_attribute("aria-invalid", "true")
    await page.fill("#mobile", "13905701234")
    await expect(page.locator("#mobile-error")).to_have_count(0)
    await page.screenshot(path=shots / "console.png")
    await page.keyboard.press("Alt+s")
    await expect(page.locator("#ticket-result")).to_contain_text("QZ-")
    box = await page.locator("#ticket-result").bounding_box()
    assert box["y"] + box["height"] <= 768  # the ticket number, without scrolling
    await page.screenshot(path=shots / "console-ticket.png", full_page=True)


async def test_an_enterprise_chats_and_gets_a_ticket_number(browser, web_users, shots):
    context = await browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    page = await context.new_page()
    await page.goto(f"{web_users}/chat")

    async def say(text):
        before = await page.locator(".msg.bot").count()
        await page.fill("#message", text)
        await page.keyboard.press("Enter")
        await expect(page.locator(".msg.bot")).to_have_count(before + 1, timeout=15000)
        return page.locator(".msg.bot").last

    reply = await say("我们厂的过桥资金下个月到期，银行说不续贷了")
    await expect(reply).to_contain_text("应急转贷")
    await reply.get_by_role("button", name="需要登记").click()
    await expect(page.locator(".msg.bot").last).to_contain_text("企业全称")
    await say(f"江山市宏达门业{uuid.uuid4().hex[:4]}有限公司")
    await say("跳过")
    await say("江山市")  # typed, like the button that offers the county in the name
    await say("李会计")
    summary = await say("13812345678")
    await expect(summary).to_contain_text("请核对以下信息")
    await summary.get_by_role("button", name="确认提交").click()
    link = page.locator(".msg.bot a.ticket-link").last
    await expect(link).to_be_visible(timeout=15000)
    number = await link.inner_text()
    await page.screenshot(path=shots / "chat.png", full_page=True)
    await link.click()
    await page.fill("input[name=tail]", "5678")
    await page.click("button[type=submit]")
    await expect(page.locator("#status")).to_contain_text("已分派")
    await page.screenshot(path=shots / "status.png", full_page=True)
    assert number.startswith("QZ-")
    await page.go_back()  # back in the chat: the conversation is still there
    await page.go_back()
    await expect(page.locator(".msg.bot a.ticket-link").last).to_have_text(number)
    await expect(page.locator(".msg.user").first).to_contain_text("过桥资金")


async def test_an_admin_filters_the_dashboard_and_downloads_xlsx(browser, web_users, services,
                                                                signed_in, shots):
    engine = create_engine(services.database_url)
    for domain, n in (("finance", 3), ("open", 2)):
        for _ in range(n):
            record_demand(engine, "report_need", domain, None, "江山市", "wechat", "出口难")
    KbLog(engine).propose("出口信用保险保费有补贴吗", "以当地商务部门当年通知为准。",
                          "open-export-tax-rebate-2022", "注意事项", "b-agent")
    text = f"门头招牌申请一个月没批下来{uuid.uuid4().hex[:4]}"
    correction = corrections.record(engine, text=text, intent="report_need",
                                    predicted=("project", "construction_permit"),
                                    chosen=("other", "licence_permit"), source="user",
                                    username="rest")
    page = await signed_in(browser, web_users, "b-admin")
    await expect(page).to_have_url(f"{web_users}/dashboard")
    await expect(page.locator("body[data-loaded='1']")).to_have_count(1)
    # the knowledge base's editors: a proposal to decide, documents to review
    await expect(page.locator("#faq")).to_contain_text("出口信用保险保费有补贴吗")
    await expect(page.locator("#review")).to_contain_text("已被新文件取代")
    # a user's correction of the category, accepted as training data (issue 15)
    item = page.locator("#corrections .correction", has_text=text)
    await expect(item).to_contain_text("改为：其他·经营许可与审批")
    await item.get_by_role("button", name="通过").click()
    await expect(page.locator("#corrections")).to_contain_text("已通过：" + text)
    assert [c["id"] for c in corrections.accepted(engine)][-1] == correction
    await page.select_option("#region", "江山市")
    await page.click("#filters button[type=submit]")
    await expect(page.locator("#domains .bar").first).to_be_visible()
    await page.screenshot(path=shots / "dashboard.png", full_page=True)
    async with page.expect_download() as info:
        await page.click("a.export[data-table='domains'][data-format='xlsx']")
    download = await info.value
    data = await download.path()
    rows = list(load_workbook(io.BytesIO(Path(data).read_bytes())).active.iter_rows(
        values_only=True))
    with engine.connect() as conn:
        expected = dict(conn.execute(select(demands.c.domain, func.count())
                                     .where(demands.c.region == "江山市")
                                     .group_by(demands.c.domain)).all())
    names = {d: taxonomy().domains[d].name for d in expected}  # Chinese, as the sheet shows
    assert rows[0] == ("领域", "数量") and dict(rows[1:]) == {names[d]: n
                                                          for d, n in expected.items()}
    assert expected["finance"] >= 3 and expected["open"] >= 2
