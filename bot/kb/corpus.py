"""The read side of the index: documents' metadata, passages per term, IDF, BM25 over
either FTS5 index, and each document's words and bigrams — loaded once and forgotten when
the file changes (an ingest here or in another process)."""

from __future__ import annotations

import json
import math
import sqlite3
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from bot.kb import tokens
from bot.kb.answer import Sentence, prepare
from bot.kb.faq import FaqEntry, FaqMatcher

#: documents whose terms are held at once (a large knowledge base is not all held)
HELD_DOCUMENTS = 512


class Corpus:
    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.n = 0  # passages
        self._df: dict[str, int] | None = None
        self._gram_df: dict[str, int] | None = None
        self._metas: dict[str, dict[str, Any]] | None = None
        self._doc_terms: dict[str, DocTerms] = {}
        self._faq: FaqMatcher | None = None
        self._data_version: int | None = None

    def forget(self) -> None:
        """Drop what was loaded: the file changed."""
        self._df = self._gram_df = self._metas = self._faq = None
        self._doc_terms.clear()

    def refresh(self) -> None:
        """Forget what was loaded when another process changed the knowledge base (an
        ingest from the console or ``govbot kb ingest`` while the assistant runs)."""
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._data_version = version
            self.forget()

    def metas(self) -> dict[str, dict[str, Any]]:
        """Every document's metadata by id."""
        if self._metas is None:
            self._metas = {i: json.loads(m) for i, m in
                           self.db.execute("SELECT id, meta FROM documents")}
        return self._metas

    def meta(self, doc_id: str) -> dict[str, Any]:
        return self.metas()[doc_id]

    def documents(self) -> list[dict[str, Any]]:
        return [json.loads(m) for (m,) in self.db.execute("SELECT meta FROM documents "
                                                          "ORDER BY id")]

    def versions(self) -> dict[str, str]:
        """Every document's content hash by id (what changed since a given ingest)."""
        return dict(self.db.execute("SELECT id, hash FROM documents").fetchall())

    def sections(self, doc_id: str) -> set[str]:
        """The section names of a document (empty when it is not in the knowledge base)."""
        return {s for (s,) in self.db.execute("SELECT section FROM chunks WHERE doc_id = ?",
                                               (doc_id,))}

    def faq(self) -> FaqMatcher:
        """The standard questions."""
        if self._faq is None:
            self._faq = FaqMatcher(
                FaqEntry(i, q, tuple(json.loads(sim)), a, doc, section, source)
                for i, doc, section, q, sim, a, source in self.db.execute(
                    "SELECT id, doc_id, section, q, similar, a, source FROM faq ORDER BY id"))
        return self._faq

    def frequencies(self, table: str = "words") -> dict[str, int]:
        """Passages per term of the ``words`` or ``grams`` index."""
        if self._df is None:
            self._df = dict(self.db.execute("SELECT term, df FROM terms"))
            self.n = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        if table == "words":
            return self._df
        if self._gram_df is None:
            self._gram_df = dict(self.db.execute("SELECT term, df FROM gram_df"))
        return self._gram_df

    def idf(self, term: str) -> float:
        df = self.frequencies().get(term, 0)
        return math.log(1 + (self.n - df + 0.5) / (df + 0.5))

    def coverage(self, query_words: list[str], passage_words: set[str]) -> float:
        """IDF-weighted share of the query's words that the passage contains (words the
        knowledge base never uses weigh most: they are what it cannot answer)."""
        total = sum(self.idf(w) for w in query_words)
        if total == 0:
            return 0.0
        return sum(self.idf(w) for w in query_words if w in passage_words) / total

    def bm25(self, table: str, terms: list[str], limit: int) -> dict[int, float]:
        """The best ``limit`` passages for ``terms`` in the ``words`` or ``grams`` index,
        by FTS5's BM25 (higher is better)."""
        if not terms:
            return {}
        query = " OR ".join('"' + t.replace('"', '""') + '"' for t in dict.fromkeys(terms))
        rows = self.db.execute(
            f"SELECT rowid, -bm25({table}) FROM {table} WHERE {table} MATCH ? "
            f"ORDER BY bm25({table}) LIMIT ?", (query, limit))
        return dict(rows.fetchall())

    def documents_of(self, rowids: Iterable[int]) -> list[tuple[int, str]]:
        """(passage rowid, document id) of each passage."""
        ids = list(rowids)
        return self.db.execute(
            f"SELECT rowid, doc_id FROM chunks WHERE rowid IN ({','.join('?' * len(ids))})",
            ids).fetchall()

    def terms_of(self, doc_id: str) -> DocTerms:
        """The words and bigrams of a document, of its title and headings, and of each
        of its passages."""
        doc = self._doc_terms.get(doc_id)
        if doc is not None:
            return doc
        doc = DocTerms(Terms(), Terms(), {}, Counter(), {}, {})
        sections = set()
        for row, section, text, ws, gs in self.db.execute(
                "SELECT c.rowid, c.section, c.text, c.words, g.t FROM chunks c "
                "JOIN grams g ON g.rowid = c.rowid WHERE c.doc_id = ?", (doc_id,)):
            words = ws.split()
            doc.passages[row] = Terms(set(words), set(gs.split()))
            doc.whole.words.update(words)
            doc.whole.grams.update(doc.passages[row].grams)
            doc.counts.update(words)
            doc.sections[row] = section
            doc.texts[row] = text
            sections.add(section)
        focus = tokens.Text(" ".join([self.meta(doc_id)["title"], *sorted(sections)]))
        doc.focus.words.update(focus.words)
        doc.focus.grams.update(focus.surface_grams)
        if len(self._doc_terms) >= HELD_DOCUMENTS:
            self._doc_terms.clear()
        self._doc_terms[doc_id] = doc
        return doc


@dataclass
class Terms:
    words: set[str] = field(default_factory=set)
    grams: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, text: str) -> Terms:
        """The words and bigrams of a text as written."""
        t = tokens.Text(text)
        return cls(set(t.words), set(t.surface_grams))


@dataclass
class DocTerms:
    whole: Terms
    focus: Terms  # title and headings
    passages: dict[int, Terms]  # by rowid
    counts: Counter[str]  # word → occurrences in the document
    sections: dict[int, str]  # section name by passage rowid
    texts: dict[int, str]  # passage text by rowid
    prepared: dict[int, list[Sentence]] = field(default_factory=dict)

    def sentences(self, rowid: int) -> list[Sentence]:
        """The passage's sentences, cut and cleaned once."""
        if rowid not in self.prepared:
            self.prepared[rowid] = prepare(self.sections[rowid], self.texts[rowid])
        return self.prepared[rowid]

    def answerable(self) -> Iterator[tuple[int, str, list[Sentence]]]:
        """Every passage, in order, as ``best_answer`` reads them."""
        return ((r, self.sections[r], self.sentences(r)) for r in sorted(self.passages))


def lacking(nouns: Iterable[str], terms: Terms) -> set[str]:
    """The nouns a text does not contain — neither the word nor, allowing for typos and
    other splits (杨老金 for 养老金), half of its character bigrams."""
    out = set()
    for noun in nouns:
        grams = tokens.bigrams(noun)
        if noun not in terms.words and sum(g in terms.grams for g in grams) < len(grams) / 2:
            out.add(noun)
    return out
