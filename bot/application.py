"""The composition root of the web process: builds, from the settings and once, the
application database's back end, the knowledge base with its scope model, the notifier
and the two sibling applications on one aiohttp server — the department API
(``bot/api``) and the web pages (``bot/web``). ``govbot web`` (``govbot api`` is the
same; started by ``govbot run``) serves it. Neither ``bot/api`` nor ``bot/web`` builds
the other."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from bot.api.app import create_app
from bot.http.keys import MEMBERS
from bot.http.tokens import load_tokens
from bot.kb.index import KnowledgeBase
from bot.kb.setup import open_knowledge_base
from bot.proactive.jobs import run_proactive_once
from bot.proactive.profiles import ProfileError
from bot.settings import Settings, with_rasa_token
from bot.tickets.factory import Backend, build_backend
from bot.tickets.jobs import run_jobs_once
from bot.tickets.model import TicketError
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
                     settings.openapi_file.read_text(encoding="utf-8"), kb=kb)
    app[MEMBERS] = settings.members_file
    if jobs:
        app.cleanup_ctx.append(periodic_jobs(backend, notifier, kb, settings))
    add_web(app, UserStore(backend.engine), settings.rasa, settings.kb_source_dir,
            secure_cookie=settings.secure_cookies, trusted_proxies=settings.proxies)
    return app


def periodic_jobs(backend: Backend, notifier: RasaNotifier, kb: KnowledgeBase | None,
                  settings: Settings) -> Callable[[web.Application], AsyncIterator[None]]:
    """Every ``settings.job_interval`` seconds while the server runs: the ticket jobs
    (outbox, overdue escalation) and the proactive-service job (profiles, policy
    notices, reminders). A failed run is logged; the next one tries again."""
    async def loop() -> None:
        while True:
            await run_all_jobs(backend, notifier, kb, settings)
            await asyncio.sleep(settings.job_interval)

    async def context(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(loop())
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return context


async def run_all_jobs(backend: Backend, notifier: RasaNotifier, kb: KnowledgeBase | None,
                       settings: Settings) -> dict[str, int]:
    """One run of every periodic job (``govbot tickets jobs`` runs this once)."""
    done: dict[str, int] = {}
    for name, job in (("tickets", lambda: run_jobs_once(backend, notifier,
                                                         settings.followup_workdays)),
                      ("proactive", lambda: run_proactive_once(
                          backend, kb, notifier, settings.notice_weekly_limit))):
        try:
            done.update(await job())
        except (SQLAlchemyError, TicketError, ProfileError) as err:
            logger.error("Periodic %s job failed: %s", name, err)
    return done


def serve(settings: Settings, jobs: bool = True) -> None:
    web.run_app(build_app(settings, jobs), host=settings.host, port=settings.api_port,
                print=None, access_log=None)
