"""Common problems (共性问题) on the dashboard and the policy-blockage reports made from
them (bot.http.commons, bot.proactive.blockage).

    GET  /web/commons          admin: the period's groups (the dashboard's filters)
    POST /web/commons/report   admin: {"members": [ticket numbers]} → a report one level up
"""

from __future__ import annotations

from aiohttp import web

from bot.http import commons
from bot.http.filters import filters_of
from bot.http.responses import json_object, respond
from bot.web.site import need


async def groups(request: web.Request) -> web.Response:
    need(request, "admin")
    return respond(await commons.groups(request.app, filters_of(request)))


async def make_report(request: web.Request) -> web.Response:
    s = need(request, "admin")
    return respond(await commons.make_report(request.app, await json_object(request),
                                             s.user.actor))


def add_commons_routes(app: web.Application) -> None:
    app.router.add_get("/web/commons", groups)
    app.router.add_post("/web/commons/report", make_report)
