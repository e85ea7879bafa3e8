"""The composition root of the web process: builds, from the settings and once, the
application database's back end, the knowledge base with its scope model, the notifier
and the two sibling applications on one aiohttp server — the department API
(``bot/api``) and the web pages (``bot/web``). ``govbot web`` (``govbot api`` is the
same; started by ``govbot run``) serves it. Neither ``bot/api`` nor ``bot/web`` builds
the other."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.api.app import create_app
from bot.http.tokens import load_tokens
from bot.kb.setup import open_knowledge_base
from bot.settings import Settings, with_rasa_token
from bot.tickets.factory import build_backend
from bot.tickets.notify import RasaNotifier
from bot.web.app import add_web
from bot.web.users import UserStore

logger = logging.getLogger(__name__)


def build_app(settings: Settings, jobs: bool = True) -> web.Application:
    settings = with_rasa_token(settings)  # from govbot run's environment, else var/rasa_token
    backend = build_backend(settings)  # migrates the schema before serving
    tokens = load_tokens(settings.api_tokens_file)
    if not tokens:
        logger.warning("No API tokens in %s: every API call will be refused. Create one "
                       "with: govbot api token add --name NAME --role admin",
                       settings.api_tokens_file)
    notifier = RasaNotifier(settings.rasa, backend.service.store)
    kb = open_knowledge_base(settings)
    if kb is None:
        logger.warning("No knowledge base at %s (govbot run builds it): /api/v1/kb/* answer "
                       "503.", settings.kb_dir)
    else:
        kb.warm_up()  # before the server answers: the console's first search is not cold
    app = create_app(backend, tokens, notifier,
                     settings.openapi_file.read_text(encoding="utf-8"),
                     job_interval=settings.job_interval if jobs else None, kb=kb)
    add_web(app, UserStore(backend.engine), settings.rasa, settings.kb_source_dir,
            secure_cookie=settings.secure_cookies, trusted_proxies=settings.proxies)
    return app


def serve(settings: Settings, jobs: bool = True) -> None:
    web.run_app(build_app(settings, jobs), host=settings.host, port=settings.api_port,
                print=None, access_log=None)
