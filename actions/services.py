"""The actions' composition root: from the settings, once, the ticket back end and the
knowledge base — each built on the first action that needs it, not at import: the action
server starts while the database may be down, and a turn that asks no policy question
never loads the knowledge base. The process's settings come from its environment
(``bot.settings.load_settings``); a test or an embedding process installs its own
``Services`` with ``use``."""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import SQLAlchemyError

from bot.db import migrate
from bot.kb.index import KnowledgeBase
from bot.kb.setup import open_knowledge_base
from bot.settings import Settings, load_settings
from bot.tickets.factory import Backend, build_backend

logger = logging.getLogger(__name__)


class Services:
    def __init__(self, settings: Settings | None = None) -> None:
        self._settings = settings
        self._backend: Backend | None = None
        self._migrated = False
        self._kb: KnowledgeBase | None = None
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    def backend(self) -> Backend:
        """The ticket back end. Its schema is migrated on first use; while the database is
        down the actions still run (new tickets go to the outbox), and the migration is
        retried on the next call."""
        with self._lock:
            if self._backend is None:
                self._backend = build_backend(self.settings, migrate_schema=False)
            if not self._migrated:
                try:
                    migrate.upgrade(self._backend.engine)
                    self._migrated = True
                except SQLAlchemyError as err:
                    logger.warning("Ticket database unavailable, schema not checked yet: %s",
                                   type(err).__name__)
            return self._backend

    def knowledge_base(self) -> KnowledgeBase:
        """The knowledge base, built from the project's policy folder if it does not
        exist yet."""
        with self._lock:
            if self._kb is None:
                self._kb = open_knowledge_base(self.settings, build=True)
            return self._kb


_current = Services()


def services() -> Services:
    return _current


def use(replacement: Services) -> Services:
    """Install ``replacement`` as the process's services; the previous ones are returned
    (to put back)."""
    global _current
    previous, _current = _current, replacement
    return previous
