"""Running the web application: the department API and the web pages (``govbot web``;
``govbot api`` is the same; started by ``govbot run``)."""

from __future__ import annotations

import logging

from aiohttp import web

from bot.api.app import create_app
from bot.api.notify import RasaNotifier
from bot.api.tokens import load_tokens
from bot.kb.index import KnowledgeBase, kb_file
from bot.settings import Settings, with_rasa_token
from bot.tickets.factory import build_backend
from bot.web.app import add_web
from bot.web.corrections import add_correction_routes
from bot.web.inbox import add_inbox_routes
from bot.web.knowledge import add_knowledge_routes
from bot.web.queue import add_queue_routes
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
    kb = None
    if kb_file(settings.kb_dir).exists():
        from bot.kb.scope import scope_model

        kb = KnowledgeBase(settings.kb_dir, scope=scope_model(settings))
        kb.warm_up()  # before the server answers: the console's first search is not cold
    else:
        logger.warning("No knowledge base at %s (govbot run builds it): /api/v1/kb/* answer "
                       "503.", settings.kb_dir)
    app = create_app(backend, tokens, notifier,
                     settings.openapi_file.read_text(encoding="utf-8"),
                     job_interval=settings.job_interval if jobs else None, kb=kb)
    add_web(app, UserStore(backend.engine), settings.rasa,
            secure_cookie=settings.secure_cookies, trusted_proxies=settings.proxies)
    add_knowledge_routes(app, settings.kb_source_dir)
    add_correction_routes(app)
    add_queue_routes(app)
    add_inbox_routes(app)
    return app


def serve(settings: Settings, jobs: bool = True) -> None:
    web.run_app(build_app(settings, jobs), host=settings.host, port=settings.api_port,
                print=None, access_log=None)
