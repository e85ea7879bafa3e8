"""Opening the knowledge base, in one place for every process: the running assistant's
(the index at ``settings.kb_dir`` with the scope model that tells enterprise questions from
chatter — the web process, ``bot/application.py``, and the actions, ``actions/services.py``,
search the same way), the one ``govbot run`` refreshes from the policy folder, and the
one a ``govbot kb`` command names with ``--kb``."""

from __future__ import annotations

import logging
from pathlib import Path

from bot.kb.index import KnowledgeBase
from bot.kb.ingest import IngestReport
from bot.kb.ranking import Tuning
from bot.kb.schema import kb_file
from bot.settings import Settings

logger = logging.getLogger(__name__)


def knowledge_base(settings: Settings, path: Path | None = None, tuning: Tuning | None = None,
                   create: bool = False, scoped: bool = True) -> KnowledgeBase:
    """The knowledge base at ``path`` (default: ``settings.kb_dir``); ``scoped``: with the
    scope model, as questions are answered (not needed to ingest or match)."""
    scope = None
    if scoped:
        from bot.kb.scope import scope_model

        scope = scope_model(settings)
    return KnowledgeBase(path or settings.kb_dir, tuning=tuning, create=create, scope=scope)


def open_knowledge_base(settings: Settings, build: bool = False) -> KnowledgeBase | None:
    """The assistant's knowledge base, or None when none has been built; with ``build``,
    one is built from the project's policy folder first (``govbot run`` normally does)."""
    fresh = not kb_file(settings.kb_dir).exists()
    if fresh and not build:
        return None
    kb = knowledge_base(settings, create=fresh)
    if fresh:
        logger.info("Knowledge base: %s", kb.ingest(settings.kb_source_dir).summary())
    return kb


def ingest_folder(settings: Settings, folder: Path, path: Path | None = None) -> IngestReport:
    """Bring the knowledge base at ``path`` (default: the assistant's) in line with
    ``folder`` (only what changed is re-indexed)."""
    kb = knowledge_base(settings, path, create=True, scoped=False)
    try:
        return kb.ingest(folder)
    finally:
        kb.close()


def refresh_knowledge_base(settings: Settings) -> None:
    """Ingest the project's policy folder into ``settings.kb_dir`` before serving."""
    if not settings.kb_source_dir.is_dir():
        return
    report = ingest_folder(settings, settings.kb_source_dir)
    for error in report.errors:
        logger.error("Knowledge base: %s", error)
    logger.info("Knowledge base %s: %s", settings.kb_dir, report.summary())
