"""Signing in and out: password login with a per-account and per-address failure limit,
session cookies (HttpOnly, SameSite=Strict) and the CSRF token every state-changing
page request carries."""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Awaitable, Callable

from aiohttp import web

from bot.web.site import HOME, PAGES, SECURE_COOKIE, USERS, client_address, page, session_of

logger = logging.getLogger(__name__)

COOKIE = "govbot_session"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Load the session; check the CSRF token on state-changing web requests."""
    if request.path.startswith("/api/"):
        return await handler(request)
    cookie = request.cookies.get(COOKIE)
    request["session"] = await asyncio.to_thread(request.app[USERS].session, cookie) \
        if cookie else None
    if request.method == "POST" and request["session"] is not None \
            and request.path not in ("/login", "/chat/send") \
            and not request.path.startswith("/status/"):
        given = request.headers.get("X-CSRF-Token") or (await request.post()).get("csrf", "")
        if not hmac.compare_digest(str(given), request["session"].csrf):
            raise web.HTTPForbidden(text="CSRF token missing or wrong")
    return await handler(request)


async def login_page(request: web.Request) -> web.Response:
    return page(request, "login.html", next=request.query.get("next", ""), error=None)


async def login(request: web.Request) -> web.Response:
    form = await request.post()
    username, password = str(form.get("username", "")).strip(), str(form.get("password", ""))
    address = client_address(request)
    users = request.app[USERS]
    if await asyncio.to_thread(users.blocked, username, address):
        logger.warning("Login blocked after repeated failures (address %s)", address)
        response = page(request, "login.html", next="", error=(
            "此账号在本机登录失败次数过多，请15分钟后再试；急需登录请联系管理员解除锁定。"))
        response.set_status(429)
        return response
    await asyncio.sleep(await asyncio.to_thread(users.delay, username))
    result = await asyncio.to_thread(users.login, username, password, address)
    if result is None:
        response = page(request, "login.html", next=form.get("next", ""),
                        error="用户名或密码错误。")
        response.set_status(401)
        return response
    cookie, s = result
    request["audit_actor"] = s.user.username
    target = str(form.get("next") or "")
    allowed = [p for p, roles in PAGES.items() if s.user.role in roles]
    if target not in allowed:
        target = HOME[s.user.role]
    response = web.HTTPFound(target)
    response.set_cookie(COOKIE, cookie, httponly=True, samesite="Strict",
                        secure=request.app[SECURE_COOKIE], max_age=8 * 3600, path="/")
    raise response


async def logout(request: web.Request) -> web.Response:
    await asyncio.to_thread(request.app[USERS].logout, request.cookies.get(COOKIE))
    response = web.HTTPFound("/login")
    response.del_cookie(COOKIE, path="/")
    raise response


async def home(request: web.Request) -> web.Response:
    s = session_of(request)
    raise web.HTTPFound(HOME[s.user.role] if s else "/chat")


def add_auth_routes(app: web.Application) -> None:
    app.middlewares.append(sessions)
    app.router.add_get("/", home)
    app.router.add_get("/login", login_page)
    app.router.add_post("/login", login)
    app.router.add_post("/logout", logout)
