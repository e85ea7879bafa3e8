"""``/status/{number}``: a ticket's progress for whoever knows its number and the last
four digits of the contact's mobile."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from bot.http.keys import BACKEND
from bot.taxonomy import taxonomy
from bot.tickets.lookup import LOOKUP_BLOCKED, LOOKUP_FAILED, LookupBlocked
from bot.tickets.model import STATUS_NAMES
from bot.web.site import page

logger = logging.getLogger(__name__)


async def status_page(request: web.Request) -> web.Response:
    """A ticket for whoever knows its number and the mobile's last four digits; the limit
    per ticket number is the chat's (bot/tickets/lookup.py, in the database)."""
    number = request.match_info["number"]
    context: dict[str, Any] = {"number": number, "ticket": None, "error": None}
    if request.method == "POST":
        tail = str((await request.post()).get("tail", "")).strip()
        try:
            t = await asyncio.to_thread(request.app[BACKEND].lookup.check, number, tail, "web")
        except LookupBlocked:
            logger.warning("Status page look-up refused: too many failures for this number")
            t, context["error"] = None, LOOKUP_BLOCKED
        else:
            context["error"] = None if t else LOOKUP_FAILED
        if t:
            context["ticket"] = t
            context["label"] = taxonomy().label(t.domain, t.subtopic)
    return page(request, "status.html", status_names=STATUS_NAMES, **context)


def add_status_routes(app: web.Application) -> None:
    app.router.add_route("*", "/status/{number}", status_page)
