"""The web faces of govbot, added to the department API's aiohttp application:

* ``/chat`` — the enterprise web chat (the REST channel, proxied), ``/status/{n}``;
* ``/console`` — the hotline agent's assistant (坐席助手), with the hand-off inbox;
* ``/queue`` — a department handler's tickets;
* ``/dashboard`` — demand statistics for administrators (诉求统计), CSV / XLSX exports,
  NLU corrections and knowledge-base proposals to review, common problems (共性问题)
  and the policy-blockage reports made from them, the centre's review of low ratings.

Pages need a login (except the chat and the status page); each role sees only its
pages. Sessions are cookies (HttpOnly, SameSite=Strict); every state-changing
request carries the session's CSRF token. Nothing is loaded from the internet: the
pages use only the files in ``bot/web/static``.
"""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

from bot.settings import RasaApi
from bot.web.auth import add_auth_routes
from bot.web.chat import add_chat_routes
from bot.web.commons import add_commons_routes
from bot.web.console import add_console_routes
from bot.web.corrections import add_correction_routes
from bot.web.dashboard import add_dashboard_routes
from bot.web.inbox import add_inbox_routes
from bot.web.knowledge import add_knowledge_routes
from bot.web.queue import add_queue_routes
from bot.web.reviews import add_review_routes
from bot.web.site import PROXIES, RASA, SECURE_COOKIE, TEMPLATES, USERS
from bot.web.status import add_status_routes
from bot.web.users import UserStore

HERE = Path(__file__).resolve().parent


def add_web(app: web.Application, users: UserStore, rasa: RasaApi, kb_source: Path,
            secure_cookie: bool = False,
            trusted_proxies: frozenset[str] = frozenset()) -> web.Application:
    """Every page and page request, on ``app`` (which holds the shared services under
    ``bot.http.keys``); ``kb_source`` is the policy source folder FAQ proposals go to."""
    app[USERS], app[RASA], app[SECURE_COOKIE] = users, rasa, secure_cookie
    app[PROXIES] = trusted_proxies
    app[TEMPLATES] = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                                        autoescape=True)
    add_auth_routes(app)
    add_chat_routes(app)
    add_status_routes(app)
    add_console_routes(app)
    add_inbox_routes(app)
    add_queue_routes(app)
    add_dashboard_routes(app)
    add_commons_routes(app)
    add_review_routes(app)
    add_correction_routes(app)
    add_knowledge_routes(app, kb_source)
    app.router.add_static("/static", HERE / "static")
    return app
