"""What the knowledge base could not answer (knowledge gaps) and whether answers helped,
kept in the application database beside the tickets for the statistics pages."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Engine

from bot.tickets.schema import kb_feedback, kb_gaps


class KbLog:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def gap(self, question: str, sender_id: str | None = None, region: str | None = None,
            domain: str | None = None, best_doc_id: str | None = None,
            confidence: float | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(kb_gaps).values(
                at=datetime.now(timezone.utc), sender_id=sender_id, question=question[:2000],
                region=region, domain=domain, best_doc_id=best_doc_id, confidence=confidence))

    def feedback(self, question: str, doc_id: str, helpful: bool,
                 sender_id: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(insert(kb_feedback).values(
                at=datetime.now(timezone.utc), sender_id=sender_id, question=question[:2000],
                doc_id=doc_id, helpful=helpful))

    def gaps(self, limit: int = 100) -> list[dict[str, Any]]:
        """The latest unanswered questions (no sender: the list is for content editors)."""
        query = (select(kb_gaps.c.at, kb_gaps.c.question, kb_gaps.c.region, kb_gaps.c.domain,
                        kb_gaps.c.best_doc_id, kb_gaps.c.confidence)
                 .order_by(kb_gaps.c.id.desc()).limit(limit))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def helpfulness(self) -> list[dict[str, Any]]:
        """Per document: answers rated helpful / not helpful."""
        query = (select(kb_feedback.c.doc_id, kb_feedback.c.helpful, func.count())
                 .group_by(kb_feedback.c.doc_id, kb_feedback.c.helpful))
        out: dict[str, dict[str, Any]] = {}
        with self.engine.connect() as conn:
            for doc_id, flag, n in conn.execute(query):
                row = out.setdefault(doc_id, {"doc_id": doc_id, "helpful": 0, "not_helpful": 0})
                row["helpful" if flag else "not_helpful"] += n
        return sorted(out.values(), key=lambda r: -(r["helpful"] + r["not_helpful"]))
