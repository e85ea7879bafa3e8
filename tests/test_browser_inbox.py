"""The staff inbox in a real headless browser: an enterprise asks for a person in the web
chat, an agent sees the conversation in the console, replies, and hands it back; the
enterprise sees both in its chat (real Rasa server, action server and web application)."""

import uuid

import pytest
from playwright.async_api import expect

pytestmark = pytest.mark.browser


async def test_an_agent_replies_in_the_inbox_and_the_user_sees_it(browser, web_users,
                                                                   signed_in, shots):
    chat = await (await browser.new_context(viewport={"width": 390, "height": 844})).new_page()
    await chat.goto(f"{web_users}/chat")
    marker = f"设备进口关税问题{uuid.uuid4().hex[:4]}，我要找人工"
    await chat.fill("#message", marker)
    await chat.keyboard.press("Enter")
    await expect(chat.locator(".msg.bot").last).to_contain_text("已为您转接人工服务",
                                                                timeout=15000)

    console = await signed_in(browser, web_users, "b-agent")
    await console.click("#tab-inbox")
    entry = console.locator("#inbox-list button", has_text=marker[:12])
    await expect(entry).to_be_visible(timeout=10000)
    await expect(console.locator("#inbox-count")).not_to_have_text("0")
    await entry.click()
    await expect(console.locator("#thread-log")).to_contain_text(marker)
    await console.fill("#reply-text",
                       "您好，我是坐席小王。进口设备免税需要先办理确认书，我马上发您材料清单。")
    await console.click("#reply-form button[type=submit]")
    await expect(console.locator("#reply-status")).to_contain_text("已发送")
    await expect(console.locator("#thread-log .msg.staff")).to_contain_text("坐席小王")
    await console.screenshot(path=shots / "console-inbox.png")

    await expect(chat.locator(".msg.bot").last).to_contain_text("【人工客服】您好，我是坐席小王",
                                                                timeout=15000)
    await console.click("#handback")
    await expect(console.locator("#reply-status")).to_contain_text("已交还智能助手")
    await expect(entry).to_have_count(0)
    await expect(chat.locator(".msg.bot").last).to_contain_text("智能助手继续为您服务",
                                                                timeout=15000)
    await chat.screenshot(path=shots / "chat-staff-reply.png")
