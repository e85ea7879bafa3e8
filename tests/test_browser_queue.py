"""The department handler's queue in a real headless browser (Debian's Chromium driven by
Playwright) against the real servers: a desk at 1366×768 and a phone at 390×844.

Screenshots: test-output/screenshots/queue.png and queue-phone.png.
"""

import uuid
from dataclasses import replace

import pytest
from conftest import PASSWORD  # the password the signed_in fixture types
from playwright.async_api import expect
from sqlalchemy import create_engine

from bot.tickets.factory import build_backend
from bot.tickets.model import Enterprise, NewTicket, Status
from bot.web.users import UserError, UserStore

FINANCE = "龙游县金融工作服务中心"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def handler(web_users, services):
    """A handler of the county's finance office, and the ticket service of the database
    the running servers use."""
    try:
        UserStore(create_engine(services.database_url)).add(
            "b-finance", PASSWORD, "handler", FINANCE, display_name="金融办李四")
    except UserError:
        pass  # created by an earlier run of this module in the session
    backend = build_backend(replace(services.settings, database_url=services.database_url))
    return web_users, backend.service


def open_ticket(service, company, contact, mobile, text):
    t = service.open(NewTicket(Enterprise(company, None, contact, mobile), "龙游县", "finance",
                               "bridge_loan", text), "test").ticket
    assert t.department == FINANCE
    return t


async def no_horizontal_scroll(page, width):
    scroll = await page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll} px wide at {width} px"


async def test_a_handler_accepts_a_ticket_at_the_desk_and_returns_one_on_a_phone(
        browser, handler, signed_in, shots):
    base, service = handler
    tag = uuid.uuid4().hex[:4]
    first = open_ticket(service, f"龙游县恒丰纸业{tag}有限公司", "王经理", "13905701234",
                        "过桥资金下个月到期，银行说不续贷了，想申请应急转贷资金")
    second = open_ticket(service, f"龙游县宏达机械{tag}有限公司", "李会计", "13812345678",
                         "贷款被银行抽贷，" + "资金周转困难，急需协调续贷，" * 12)

    # -- the desk: 1366×768 ------------------------------------------------------------
    page = await signed_in(browser, base, "b-finance")
    await expect(page).to_have_url(f"{base}/queue")
    card = page.locator(f"li.ticket[data-number='{first.number}']")
    await expect(card).to_contain_text(f"龙游县恒丰纸业{tag}有限公司")
    await expect(card).to_contain_text("王经理")
    await expect(card.locator("a[href='tel:13905701234']")).to_have_text("13905701234")
    await expect(card.locator(".status")).to_have_text("已分派，等待承办部门受理")
    await expect(card).to_contain_text("金融服务·应急转贷（过桥）与抽贷断贷")
    await expect(card).to_contain_text(first.number)
    await expect(card).to_contain_text(first.resolution_due.isoformat())
    assert "assigned" not in await card.inner_text()
    await no_horizontal_scroll(page, 1366)
    # a long request is cut, with its full text a click away
    other = page.locator(f"li.ticket[data-number='{second.number}']")
    await expect(other.locator(".request-full")).not_to_have_attribute("open", "")
    await other.get_by_text("展开全文").click()
    await expect(other.locator(".request-full .request-text")).to_be_visible()

    await card.get_by_role("button", name="受理").click()
    await expect(card.locator(".status")).to_have_text("办理中")
    await expect(card.locator(".ticket-done")).to_contain_text("已受理")
    reply = card.get_by_label("办理结果（办结后告知企业，必填）")
    await expect(reply).to_be_focused()  # the next step, for the keyboard
    await expect(card.get_by_role("button", name="受理")).to_be_hidden()
    assert service.store.get(first.number).status is Status.IN_PROGRESS
    # 办结 without a result: said next to the ticket, nothing sent
    await card.get_by_role("button", name="办结").click()
    await expect(card.locator(".ticket-error")).to_have_text("请填写办理结果。")
    assert service.store.get(first.number).status is Status.IN_PROGRESS
    # 提级 says where the ticket would go; Escape closes it and returns to the button
    escalate = card.get_by_role("button", name="提级", exact=True)
    await escalate.click()
    await expect(card.locator(".escalate-to")).to_have_text("衢州市营商环境建设办公室（市级）")
    await expect(card.get_by_label("提级原因（超出本级权限或需上级协调的，请说明，必填）")
                 ).to_be_focused()
    await no_horizontal_scroll(page, 1366)
    await page.screenshot(path=shots / "queue.png", full_page=True)
    await page.keyboard.press("Escape")
    await expect(escalate).to_be_focused()
    await expect(card.get_by_role("button", name="确认提级")).to_be_hidden()
    await page.context.close()

    # -- a phone: 390×844 ----------------------------------------------------------------
    page = await signed_in(browser, base, "b-finance", (390, 844))
    await expect(page).to_have_url(f"{base}/queue")
    card = page.locator(f"li.ticket[data-number='{second.number}']")
    await expect(card.locator("a[href='tel:13812345678']")).to_be_visible()
    await expect(card).to_contain_text("李会计")
    await no_horizontal_scroll(page, 390)
    box = await card.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= 390
    # 退回 by keyboard: the toggle opens the form and puts the cursor in the reason
    toggle = card.get_by_role("button", name="退回", exact=True)
    await toggle.focus()
    await page.keyboard.press("Enter")
    await expect(toggle).to_have_attribute("aria-expanded", "true")
    reason = card.get_by_label("退回原因（不属于本部门职责的，请说明应由哪个部门办理，必填）")
    await expect(reason).to_be_focused()
    await card.get_by_role("button", name="确认退回").click()
    await expect(card.locator(".ticket-error")).to_have_text("请填写退回原因。")
    await page.keyboard.type("属于法律服务事项，应由县司法局办理")
    # meanwhile someone else changes the ticket: the refusal is shown, the text is kept
    service.accept(second.number, "someone", second.version)
    await page.keyboard.press("Control+Enter")
    await expect(card.locator(".ticket-error")).to_have_text("工单已被他人更新，请刷新后重试。")
    await expect(reason).to_have_value("属于法律服务事项，应由县司法局办理")
    assert service.store.get(second.number).status is Status.IN_PROGRESS

    await page.reload()
    card = page.locator(f"li.ticket[data-number='{second.number}']")
    await expect(card.locator(".status")).to_have_text("办理中")
    await card.get_by_role("button", name="退回", exact=True).click()
    await card.get_by_label("退回原因（不属于本部门职责的，请说明应由哪个部门办理，必填）").fill(
        "属于法律服务事项，应由县司法局办理")
    await no_horizontal_scroll(page, 390)
    await card.get_by_role("button", name="确认退回").click()
    await expect(card.locator(".ticket-done")).to_have_text("已退回，等待管理员重新分派。")
    await expect(card.locator(".status")).to_have_text("重新分派中")
    await expect(card.get_by_role("button", name="确认退回")).to_be_hidden()
    await expect(card.get_by_role("button", name="办结")).to_be_hidden()
    await no_horizontal_scroll(page, 390)
    await card.scroll_into_view_if_needed()
    await page.screenshot(path=shots / "queue-phone.png", full_page=True)
    after = service.store.get(second.number)
    assert after.status is Status.RETURNED
    assert [e.data.get("reason") for e in service.store.events(second.number)
            if e.to_status is Status.RETURNED] == ["属于法律服务事项，应由县司法局办理"]
    await page.context.close()
