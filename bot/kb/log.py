"""What the knowledge base could not answer (knowledge gaps), whether answers helped, and
the standard questions agents propose — kept in the application database beside the
tickets for the statistics and review pages."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from bot.db.schema import faq_proposals, kb_feedback, kb_gaps


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

    # -- standard questions proposed from the console --------------------------------------
    def propose(self, question: str, answer: str, doc_id: str, section: str,
                by: str) -> int:
        with self.engine.begin() as conn:
            return conn.execute(insert(faq_proposals).values(
                at=datetime.now(timezone.utc), proposed_by=by, question=question,
                answer=answer, doc_id=doc_id, section=section, status="proposed")
            ).inserted_primary_key[0]

    def proposals(self, status: str | None = "proposed",
                  limit: int = 100) -> list[dict[str, Any]]:
        query = select(faq_proposals).order_by(faq_proposals.c.id.desc()).limit(limit)
        if status:
            query = query.where(faq_proposals.c.status == status)
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def proposal(self, proposal_id: int) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(faq_proposals).where(
                faq_proposals.c.id == proposal_id)).first()
        return dict(row._mapping) if row else None

    def decide(self, proposal_id: int, approved: bool, by: str,
               faq_id: str | None = None) -> bool:
        """Approve or reject a pending proposal; False when it is not pending (any more)."""
        with self.engine.begin() as conn:
            done = conn.execute(update(faq_proposals).where(
                faq_proposals.c.id == proposal_id, faq_proposals.c.status == "proposed"
            ).values(status="approved" if approved else "rejected", decided_by=by,
                     decided_at=datetime.now(timezone.utc), faq_id=faq_id))
            return done.rowcount == 1
