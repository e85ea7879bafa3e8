"""The site's frame: the web application's keys, who is signed in (``need``), pages
rendered in the site's layout with a strict content security policy, and the client's
address behind trusted proxies."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import jinja2
from aiohttp import web

from bot.http.responses import ApiError
from bot.settings import RasaApi
from bot.web.users import Session, UserStore

USERS = web.AppKey("users", UserStore)
TEMPLATES = web.AppKey("templates", jinja2.Environment)
RASA = web.AppKey("rasa", RasaApi)
SECURE_COOKIE = web.AppKey("secure_cookie", bool)
PROXIES = web.AppKey("trusted_proxies", frozenset)
HOME = {"agent": "/console", "handler": "/queue", "admin": "/dashboard"}
ROLE_NAMES = {"agent": "坐席人员", "handler": "部门办理人员", "admin": "管理员"}
PAGES = {"/console": ("agent", "admin"), "/queue": ("handler", "admin"),
         "/dashboard": ("admin",)}


def session_of(request: web.Request) -> Session | None:
    return request.get("session")


def need(request: web.Request, *roles: str) -> Session:
    """The session of a user with one of ``roles``; pages redirect to the login."""
    s = session_of(request)
    is_page = not request.path.startswith("/web/")
    if s is None:
        if is_page:
            raise web.HTTPFound(f"/login?next={quote(request.path)}")
        raise ApiError(401, "unauthorized", "请先登录。", "no session")
    if s.user.role not in roles:
        if is_page:  # a page in the site's frame that says why and leads back
            denied = page(request, "forbidden.html", home=HOME[s.user.role],
                          roles="、".join(ROLE_NAMES[r] for r in roles))
            raise web.HTTPForbidden(text=denied.text, content_type="text/html", headers={
                k: v for k, v in denied.headers.items() if k.lower() != "content-type"})
        raise ApiError(403, "forbidden", "您的账号没有此操作的权限。",
                       f"role {s.user.role} may not use {request.path}")
    return s


def page(request: web.Request, template: str, **context: Any) -> web.Response:
    html = request.app[TEMPLATES].get_template(template).render(
        session=session_of(request), **context)
    return web.Response(text=html, content_type="text/html", headers={
        "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                                   "style-src 'self'; script-src 'self'; frame-ancestors 'none'",
        "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin"})


def client_address(request: web.Request) -> str:
    """The client's address: the peer, or — when the peer is a trusted proxy (nginx in
    ``govbot cluster``) — the nearest untrusted address in X-Forwarded-For. A header from
    anyone else is ignored: a client cannot choose the address its failures count on."""
    peer = request.remote or "?"
    trusted = request.app[PROXIES]
    if peer not in trusted:
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",")]
    for hop in reversed([h for h in hops if h]):
        if hop not in trusted:
            return hop[:64]
    return peer
