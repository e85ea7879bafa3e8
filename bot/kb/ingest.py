"""Bringing the index in line with a folder of policy documents and FAQ files, in one
transaction: the index is never half-updated, and a file with an error is reported and
skipped (its earlier version, if any, kept)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from bot.kb import tokens
from bot.kb.chunks import chunk
from bot.kb.documents import DocumentError, PolicyDocument, find_documents, load_document
from bot.kb.faq import find_faq_files, load_faq_file

logger = logging.getLogger(__name__)


@dataclass
class IngestReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    chunks: int = 0
    faq: int = 0

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.updated)} updated, "
                f"{len(self.unchanged)} unchanged, {len(self.removed)} removed, "
                f"{len(self.errors)} error(s); {self.chunks} passages and {self.faq} "
                f"standard questions in the knowledge base")


def ingest(db: sqlite3.Connection, folder: Path) -> IngestReport:
    """Bring the knowledge base in line with ``folder``: add new and changed documents,
    remove documents whose files are gone. A file with an error is reported and
    skipped (its earlier version, if any, is kept); the others are ingested."""
    report = IngestReport()
    known = {row[0]: (row[1], row[2]) for row in
             db.execute("SELECT id, hash, source FROM documents")}
    built_with = db.execute("SELECT value FROM info WHERE key = 'tokens'").fetchone()
    if known and (built_with is None or built_with[0] != tokens.fingerprint()):
        logger.info("The glossary, user dictionary or tokenisation changed since the "
                    "knowledge base was built: re-indexing every document")
        known = {doc_id: ("", source) for doc_id, (_, source) in known.items()}
    seen: dict[str, str] = {}  # id → source
    kept_sources: set[str] = set()
    loaded: list[PolicyDocument] = []
    for path in find_documents(folder):
        source = str(path.relative_to(folder))
        try:
            doc = load_document(path, folder)
        except DocumentError as err:
            report.errors.append(str(err))
            kept_sources.add(source)  # keep what the KB had from this file
            continue
        if doc.id in seen:
            report.errors.append(f"{path}: duplicate id {doc.id!r} (also in "
                                 f"{folder / seen[doc.id]})")
            continue
        seen[doc.id] = source
        loaded.append(doc)
    with db:  # one transaction: the index is never half-updated
        for doc in loaded:
            before = known.get(doc.id)
            if before and before[0] == doc.hash:
                report.unchanged.append(doc.id)
                continue
            if before:
                _delete(db, doc.id)
            _insert(db, doc)
            (report.updated if before else report.added).append(doc.id)
        for doc_id, (_, source) in known.items():
            if doc_id not in seen and source not in kept_sources:
                _delete(db, doc_id)
                report.removed.append(doc_id)
        _rebuild_terms(db)
        db.execute("INSERT OR REPLACE INTO info (key, value) VALUES ('tokens', ?)",
                        (tokens.fingerprint(),))
        report.faq = _ingest_faq(db, folder, report.errors)
    report.chunks = db.execute("SELECT count(*) FROM chunks").fetchone()[0]
    return report

def _ingest_faq(db: sqlite3.Connection, folder: Path, errors: list[str]) -> int:
    """Replace the standard questions with those of the folder's FAQ files; a pair
    citing a document or section the knowledge base does not have is reported and
    left out."""
    sections: dict[str, set[str]] = {}
    for doc_id, section in db.execute("SELECT doc_id, section FROM chunks"):
        sections.setdefault(doc_id, set()).add(section)
    db.execute("DELETE FROM faq")
    seen: set[str] = set()
    for path in find_faq_files(folder):
        entries, problems = load_faq_file(path, folder)
        errors += problems
        for e in entries:
            if e.id in seen:
                errors.append(f"{path}: duplicate FAQ id {e.id!r}")
            elif e.doc not in sections:
                errors.append(f"{path}: FAQ {e.id!r} cites {e.doc!r}, which is not in the "
                              "knowledge base")
            elif e.section and e.section not in sections[e.doc]:
                errors.append(f"{path}: FAQ {e.id!r}: {e.doc!r} has no section "
                              f"{e.section!r}")
            else:
                seen.add(e.id)
                db.execute(
                    "INSERT INTO faq (id, doc_id, section, q, similar, a, source) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (e.id, e.doc, e.section, e.q, json.dumps(e.similar, ensure_ascii=False),
                     e.a, e.source))
    return len(seen)

def _insert(db: sqlite3.Connection, doc: PolicyDocument) -> None:
    db.execute("INSERT INTO documents (id, source, hash, meta) VALUES (?, ?, ?, ?)",
                    (doc.id, doc.source, doc.hash, json.dumps(doc.meta(), ensure_ascii=False)))
    for c in chunk(doc):
        # the title and section name are indexed with every passage of the document
        indexed = tokens.Text(f"{doc.title} {c.section} {c.text}")
        ws = indexed.words
        cur = db.execute(
            "INSERT INTO chunks (doc_id, seq, section, text, words) VALUES (?, ?, ?, ?, ?)",
            (doc.id, c.seq, c.section, c.text, " ".join(ws)))
        rowid = cur.lastrowid
        db.execute("INSERT INTO words (rowid, t) VALUES (?, ?)", (rowid, " ".join(ws)))
        db.execute("INSERT INTO grams (rowid, t) VALUES (?, ?)",
                        (rowid, " ".join(indexed.surface_grams)))

def _delete(db: sqlite3.Connection, doc_id: str) -> None:
    rowids = [r[0] for r in db.execute("SELECT rowid FROM chunks WHERE doc_id = ?",
                                            (doc_id,))]
    for table in ("words", "grams"):
        db.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(r,) for r in rowids])
    db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
    db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

def _rebuild_terms(db: sqlite3.Connection) -> None:
    for table, target in (("chunks", "terms"), ("grams", "gram_df")):
        column = "words" if table == "chunks" else "t"
        df: Counter[str] = Counter()
        for (ts,) in db.execute(f"SELECT {column} FROM {table}"):
            df.update(set(ts.split()))
        db.execute(f"DELETE FROM {target}")
        db.executemany(f"INSERT INTO {target} (term, df) VALUES (?, ?)", df.items())
