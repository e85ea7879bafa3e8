"""The typed keys under which the composition root (``bot/application.py``) puts the
shared services into the aiohttp application."""

from __future__ import annotations

from aiohttp import web

from bot.http.responses import ApiError
from bot.kb.index import KnowledgeBase
from bot.tickets.factory import Backend
from bot.tickets.notify import RasaNotifier

BACKEND = web.AppKey("backend", Backend)
NOTIFIER = web.AppKey("notifier", RasaNotifier)
KB = web.AppKey("kb", KnowledgeBase)  # absent until the knowledge base is built
TOKENS = web.AppKey("tokens", dict)  # token digest -> bot.http.tokens.Principal
#: the supervisor's state file (bot/supervisor.py), when govbot run / cluster started us
MEMBERS = web.AppKey("members", str)


def knowledge_base_of(request: web.Request) -> KnowledgeBase:
    """The knowledge base, or HTTP 503 while none has been built."""
    if KB not in request.app:
        raise ApiError(503, "unavailable", "政策库尚未建立，请稍后重试。",
                       "no knowledge base configured")
    return request.app[KB]
