"""Opening the knowledge base as the running assistant uses it: the index at
``settings.kb_dir`` with the scope model that tells enterprise questions from chatter.
The web process (``bot/application.py``) and the actions (``actions/policy.py``) open it
here, so both search the same way."""

from __future__ import annotations

import logging

from bot.kb.index import KnowledgeBase
from bot.kb.schema import kb_file
from bot.settings import Settings

logger = logging.getLogger(__name__)


def open_knowledge_base(settings: Settings, build: bool = False) -> KnowledgeBase | None:
    """The knowledge base, or None when none has been built; with ``build``, one is built
    from the project's policy folder first (``govbot run`` normally does that)."""
    from bot.kb.scope import scope_model

    fresh = not kb_file(settings.kb_dir).exists()
    if fresh and not build:
        return None
    kb = KnowledgeBase(settings.kb_dir, create=fresh, scope=scope_model(settings))
    if fresh:
        logger.info("Knowledge base: %s", kb.ingest(settings.kb_source_dir).summary())
    return kb
