"""The centre's review of low ratings on the dashboard (bot.http.reviews).

    GET  /web/reviews            admin: tickets rated 1–2 waiting for the centre's review
    POST /web/reviews/{number}   admin: {"conclusion": "…"} (复核意见)
"""

from __future__ import annotations

from aiohttp import web

from bot.http import reviews
from bot.http.responses import json_object, respond
from bot.web.site import need


async def pending(request: web.Request) -> web.Response:
    need(request, "admin")
    return respond(await reviews.pending(request.app))


async def conclude(request: web.Request) -> web.Response:
    s = need(request, "admin")
    return respond(await reviews.conclude(request.app, request.match_info["number"],
                                          await json_object(request), s.user.actor))


def add_review_routes(app: web.Application) -> None:
    app.router.add_get("/web/reviews", pending)
    app.router.add_post("/web/reviews/{number}", conclude)
