"""The knowledge base on disk: one SQLite file with two FTS5 indexes over the passages.

* ``words`` — jieba words (the NLU's user dictionary and the glossary, aliases
  mapped to official terms — bot.kb.tokens), ranked with FTS5's BM25;
* ``grams`` — character bigrams, for typos and words jieba splits differently.

A query is run against both, the two BM25 rankings are normalised and blended,
passages are grouped per document (best passage wins), documents past
``valid_until`` are marked expired and ranked lower, local documents of the
user's region are preferred over other regions'. When the evidence that the best
hit answers the question is weak (bot.kb.refusal), the answer is "nothing" (``[]``).

SQLite FTS5 needs no server and is a maintained engine; the alternative measured
(bm25s, in memory) is discussed in docs/knowledge_base.md.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sqlite3
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, NamedTuple

from bot.entities import extract_entities
from bot.kb import answer_check, tokens
from bot.kb.answer import (
    GENERIC_NOUNS,
    Ask,
    Knobs,
    Sentence,
    ask_of,
    best_answer,
    leans_on_answer,
    prepare,
    question_core,
)
from bot.kb.answer_check import AnswerCheck
from bot.kb.chunks import chunk
from bot.kb.documents import DocumentError, PolicyDocument, find_documents, load_document
from bot.kb.faq import FaqEntry, FaqMatcher, find_faq_files, load_faq_file
from bot.kb.refusal import Evidence, RefusalModel
from bot.regions import region_table
from bot.text import normalize

logger = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, hash TEXT NOT NULL, meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(id),
    seq INTEGER NOT NULL, section TEXT NOT NULL, text TEXT NOT NULL, words TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS words USING fts5(t, tokenize='unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS grams USING fts5(t, tokenize='unicode61');
CREATE TABLE IF NOT EXISTS terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS gram_df (term TEXT PRIMARY KEY, df INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS faq (
    id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, section TEXT NOT NULL, q TEXT NOT NULL,
    similar TEXT NOT NULL, a TEXT NOT NULL, source TEXT NOT NULL);
"""
INDEX_FILE = "index.sqlite3"
#: goes through every stage of a search (standard questions, passages, both models)
WARM_UP_QUESTION = "小微企业研发费用加计扣除比例是多少，要准备什么材料"
#: follow-up questions (KnowledgeBase._follow_up): the confidence from which a question
#: with no topic of its own is a new question elsewhere; how close the document in the
#: conversation must rank to the best one to keep answering from it; the confidence
#: given to a follow-up answer that holds the asked kind of fact
FOLLOW_UP_NEW_TOPIC = 0.6
BARE_FOLLOW_UP_CHARS = 10  # "要交什么材料": too short and topic-less to stand alone
FOLLOW_UP_CLOSE = 0.8
FOLLOW_UP_CONFIDENT = 0.8
FOLLOW_UP_EARLIER_WORDS = 0.15  # the previous question's words weigh less than the new one's


@dataclass(frozen=True)
class Tuning:
    """Retrieval knobs, measured with ``govbot kb eval`` (docs/knowledge_base.md)."""

    word_weight: float = 0.2  # blend of the normalised word and bigram BM25 scores
    candidates: int = 100  # passages fetched from each index
    # query terms found in more than this share of the passages (and in more than
    # ``prune_above`` passages: small knowledge bases are fast anyway) are left out of
    # the index queries — they add little to BM25 and most of the time — keeping at
    # least ``min_query_terms`` of the rarest. The word index weighs 0.2 in the blend,
    # so it is pruned harder.
    gram_df_share: float = 0.2
    word_df_share: float = 0.05
    prune_above: int = 100
    min_query_terms: int = 3
    # the no-answer decision (bot.kb.refusal): below ``min_confidence`` the answer is []
    min_confidence: float = 0.3
    expired_factor: float = 0.6
    other_region_factor: float = 0.7
    own_region_factor: float = 1.15
    other_audience_factor: float = 0.6  # a document only for firms the question does not name
    # the shown passage and answer (bench/kb_answers.py): the weight of the section that
    # holds the asked kind of fact, the bonus of the passage the search ranked first, the
    # bonus of a sentence stating the asked kind of fact, the answer's length
    section_weight: float = 0.3
    found_bonus: float = 0.15
    sentence_ask_bonus: float = 0.1
    answer_chars: int = 300


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


def _fts_query(terms: Iterable[str]) -> str:
    return " OR ".join('"' + t.replace('"', '""') + '"' for t in dict.fromkeys(terms))


def kb_file(path: Path) -> Path:
    """``--kb PATH`` is a folder holding the index (created if missing)."""
    return path / INDEX_FILE



class Ranking(NamedTuple):
    """One passage search: the documents with their answers, best first; whether the best
    answer may be shown; the no-answer model's evidence (None: nothing matched)."""

    hits: list[dict[str, Any]]
    answerable: bool
    evidence: Evidence | None

class KnowledgeBase:
    def __init__(self, path: Path, tuning: Tuning | None = None, create: bool = False,
                 scope: Callable[[str], float] | None = None,
                 refusal: RefusalModel | None = None,
                 check: AnswerCheck | None | bool = True) -> None:
        """``scope``: P(the text is an enterprise-service question) — bot.kb.scope; without
        it every question counts as in scope. ``refusal``: the no-answer model (default:
        the fitted one, bot/resources/kb_refusal.json). ``check``: whether the shown answer
        is right (bot.kb.answer_check; default: the fitted one when there is one; False:
        none, the no-answer model alone decides)."""
        self.path = path
        self.tuning = tuning or Tuning()
        self.scope = scope
        file = kb_file(path)
        if not file.exists() and not create:
            raise FileNotFoundError(f"no knowledge base at {path} (run: govbot kb ingest DIR "
                                    f"--kb {path})")
        path.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(file, check_same_thread=False)
        self.db.executescript(SCHEMA)
        self._df: dict[str, int] | None = None
        self._gram_df: dict[str, int] | None = None
        self._n = 0
        self._metas: dict[str, dict[str, Any]] | None = None
        self._doc_terms: dict[str, DocTerms] = {}
        self._faq: FaqMatcher | None = None
        self.use_faq = True  # False: passage search only (fitting the answer check)
        self.use_core = True  # False: the whole message is searched (measuring)
        self._data_version: int | None = None
        self.refusal = refusal or RefusalModel.load()
        if check is True:
            check = AnswerCheck.load() if answer_check.MODEL_FILE.exists() else None
        self.answer_check: AnswerCheck | None = check or None

    def close(self) -> None:
        self.db.close()

    # -- ingestion --------------------------------------------------------------------
    def ingest(self, folder: Path) -> IngestReport:
        """Bring the knowledge base in line with ``folder``: add new and changed documents,
        remove documents whose files are gone. A file with an error is reported and
        skipped (its earlier version, if any, is kept); the others are ingested."""
        report = IngestReport()
        known = {row[0]: (row[1], row[2]) for row in
                 self.db.execute("SELECT id, hash, source FROM documents")}
        built_with = self.db.execute("SELECT value FROM info WHERE key = 'tokens'").fetchone()
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
        with self.db:  # one transaction: the index is never half-updated
            for doc in loaded:
                before = known.get(doc.id)
                if before and before[0] == doc.hash:
                    report.unchanged.append(doc.id)
                    continue
                if before:
                    self._delete(doc.id)
                self._insert(doc)
                (report.updated if before else report.added).append(doc.id)
            for doc_id, (_, source) in known.items():
                if doc_id not in seen and source not in kept_sources:
                    self._delete(doc_id)
                    report.removed.append(doc_id)
            self._rebuild_terms()
            self.db.execute("INSERT OR REPLACE INTO info (key, value) VALUES ('tokens', ?)",
                            (tokens.fingerprint(),))
            report.faq = self._ingest_faq(folder, report.errors)
        report.chunks = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        return report

    def _ingest_faq(self, folder: Path, errors: list[str]) -> int:
        """Replace the standard questions with those of the folder's FAQ files; a pair
        citing a document or section the knowledge base does not have is reported and
        left out."""
        sections: dict[str, set[str]] = {}
        for doc_id, section in self.db.execute("SELECT doc_id, section FROM chunks"):
            sections.setdefault(doc_id, set()).add(section)
        self.db.execute("DELETE FROM faq")
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
                    self.db.execute(
                        "INSERT INTO faq (id, doc_id, section, q, similar, a, source) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (e.id, e.doc, e.section, e.q, json.dumps(e.similar, ensure_ascii=False),
                         e.a, e.source))
        self._faq = None
        return len(seen)

    def faq(self) -> FaqMatcher:
        """The standard questions (loaded once per ingest)."""
        if self._faq is None:
            self._faq = FaqMatcher(
                FaqEntry(i, q, tuple(json.loads(sim)), a, doc, section, source)
                for i, doc, section, q, sim, a, source in self.db.execute(
                    "SELECT id, doc_id, section, q, similar, a, source FROM faq ORDER BY id"))
        return self._faq

    def _insert(self, doc: PolicyDocument) -> None:
        self.db.execute("INSERT INTO documents (id, source, hash, meta) VALUES (?, ?, ?, ?)",
                        (doc.id, doc.source, doc.hash, json.dumps(doc.meta(), ensure_ascii=False)))
        for c in chunk(doc):
            # the title and section name are indexed with every passage of the document
            indexed = tokens.Text(f"{doc.title} {c.section} {c.text}")
            ws = indexed.words
            cur = self.db.execute(
                "INSERT INTO chunks (doc_id, seq, section, text, words) VALUES (?, ?, ?, ?, ?)",
                (doc.id, c.seq, c.section, c.text, " ".join(ws)))
            rowid = cur.lastrowid
            self.db.execute("INSERT INTO words (rowid, t) VALUES (?, ?)", (rowid, " ".join(ws)))
            self.db.execute("INSERT INTO grams (rowid, t) VALUES (?, ?)",
                            (rowid, " ".join(indexed.surface_grams)))

    def _delete(self, doc_id: str) -> None:
        rowids = [r[0] for r in self.db.execute("SELECT rowid FROM chunks WHERE doc_id = ?",
                                                (doc_id,))]
        for table in ("words", "grams"):
            self.db.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(r,) for r in rowids])
        self.db.execute("DELETE FROM chunks WHERE doc_id = ?", (doc_id,))
        self.db.execute("DELETE FROM documents WHERE id = ?", (doc_id,))

    def _rebuild_terms(self) -> None:
        for table, target in (("chunks", "terms"), ("grams", "gram_df")):
            column = "words" if table == "chunks" else "t"
            df: Counter[str] = Counter()
            for (ts,) in self.db.execute(f"SELECT {column} FROM {table}"):
                df.update(set(ts.split()))
            self.db.execute(f"DELETE FROM {target}")
            self.db.executemany(f"INSERT INTO {target} (term, df) VALUES (?, ?)", df.items())
        self._df = None
        self._gram_df = None
        self._metas = None
        self._doc_terms.clear()

    def warm_up(self) -> None:
        """Load everything a search needs (jieba and its tagger, the scope, no-answer and
        answer-check models, the standard questions, the term tables) by answering a
        question and a follow-up: the first user's question is then as fast as the next."""
        hits = self.search(WARM_UP_QUESTION, top_k=3, refuse=False)
        if hits:
            self.search("那个体工商户呢", top_k=3,
                        after={"doc_id": hits[0]["doc_id"], "question": WARM_UP_QUESTION})

    def _refresh(self) -> None:
        """Forget what was loaded when another process changed the knowledge base (an
        ingest from the console or ``govbot kb ingest`` while the assistant runs)."""
        version = self.db.execute("PRAGMA data_version").fetchone()[0]
        if version != self._data_version:
            self._data_version = version
            self._df = self._gram_df = self._metas = self._faq = None
            self._doc_terms.clear()

    def sections(self, doc_id: str) -> set[str]:
        """The section names of a document (empty when it is not in the knowledge base)."""
        return {s for (s,) in self.db.execute("SELECT section FROM chunks WHERE doc_id = ?",
                                               (doc_id,))}

    def _all_metas(self) -> dict[str, dict[str, Any]]:
        """Every document's metadata by id (loaded once per ingest)."""
        if self._metas is None:
            self._metas = {i: json.loads(m) for i, m in
                           self.db.execute("SELECT id, meta FROM documents")}
        return self._metas

    def _meta(self, doc_id: str) -> dict[str, Any]:
        return self._all_metas()[doc_id]

    # -- reading ----------------------------------------------------------------------
    def documents(self) -> list[dict[str, Any]]:
        return [json.loads(m) for (m,) in self.db.execute("SELECT meta FROM documents "
                                                          "ORDER BY id")]

    def _frequencies(self, table: str = "words") -> dict[str, int]:
        """Passages per term of the ``words`` or ``grams`` index (loaded once per ingest)."""
        if self._df is None:
            self._df = dict(self.db.execute("SELECT term, df FROM terms"))
            self._n = self.db.execute("SELECT count(*) FROM chunks").fetchone()[0]
        if table == "words":
            return self._df
        if self._gram_df is None:
            self._gram_df = dict(self.db.execute("SELECT term, df FROM gram_df"))
        return self._gram_df

    def _idf(self, term: str) -> float:
        df = self._frequencies().get(term, 0)
        return math.log(1 + (self._n - df + 0.5) / (df + 0.5))

    def _bm25(self, table: str, terms: list[str]) -> dict[int, float]:
        terms = self._selective(table, list(dict.fromkeys(terms)))
        if not terms:
            return {}
        rows = self.db.execute(
            f"SELECT rowid, -bm25({table}) FROM {table} WHERE {table} MATCH ? "
            f"ORDER BY bm25({table}) LIMIT ?", (_fts_query(terms), self.tuning.candidates))
        return dict(rows.fetchall())

    def _selective(self, table: str, terms: list[str]) -> list[str]:
        """``terms`` without the very common ones (``Tuning.gram_df_share`` and
        ``word_df_share``), in order."""
        df = self._frequencies(table)
        t = self.tuning
        share = t.gram_df_share if table == "grams" else t.word_df_share
        limit = max(share * self._n, t.prune_above)
        common = {w for w in terms if df.get(w, 0) > limit}
        if len(terms) - len(common) < t.min_query_terms:
            rare_first = sorted(terms, key=lambda w: df.get(w, 0))
            common -= set(rare_first[:t.min_query_terms])
        return [w for w in terms if w not in common]

    def search(self, query: str, top_k: int = 5, region: str | None = None,
               today: date | None = None, refuse: bool = True,
               after: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """The best documents for ``query``, best first; ``[]`` when nothing answers it. A
        question that is one of the standard questions (bot.kb.faq) gets its answer
        first. ``after`` is the previous answer in the conversation (``doc_id`` and
        ``question``): a follow-up question is answered from that document."""
        today = today or date.today()
        query = self._prepared(query)
        in_conversation = bool(after) and after.get("doc_id") in self._all_metas()
        if not in_conversation and len(tokens.clean(query)) <= BARE_FOLLOW_UP_CHARS \
                and leans_on_answer(query) == "no topic":
            return []  # "要什么材料" with no policy in the conversation: about what?
        # the question ranked once, for a follow-up, a standard question and the answer
        ranked = self._ranked(query, top_k, region, today)
        if in_conversation:
            followed = self._follow_up(query, after, ranked.hits, region, today)
            if followed:
                return followed
        standard = self.faq().match(subject(query)) if self.use_faq else None
        hits, answerable = ranked.hits, ranked.answerable
        if standard is None:
            return hits if answerable or not refuse else []
        others = [h for h in hits if h["doc_id"] != standard.doc][:max(top_k - 1, 0)]
        return [self._faq_hit(standard, today), *others]

    def search_evidence(self, query: str, region: str | None = None,
                        today: date | None = None) -> Evidence | None:
        """The no-answer model's evidence for ``query`` as ``search`` computes it (the same
        question preparation, the passage the search found): what ``bench/kb_tuning.py``
        fits the model on. None when no passage matches at all."""
        return self._ranked(self._prepared(query), 5, region, today or date.today()).evidence

    def _prepared(self, query: str) -> str:
        """The question as searched (the index reloaded first if another process changed
        it): without "喂你好，我想问一下", a letter's asking part."""
        self._refresh()
        return question_core(query) if self.use_core else query

    def _follow_up(self, query: str, after: dict[str, str], alone: list[dict[str, Any]],
                   region: str | None, today: date) -> list[dict[str, Any]]:
        """The answer from the document in the conversation when ``query`` is a follow-up
        question of ``after`` — ``[]`` when it is a new topic. A question that says it
        follows up ("那小微企业呢") does; one with no topic of its own ("要什么材料") does
        unless on its own it is confidently about words that document lacks; another does
        when that document ranks close to the best one for it. ``alone``: the question's
        own ranking."""
        doc_id = after["doc_id"]
        leaning = leans_on_answer(query)
        top = alone[0] if alone else None
        mine = next((h for h in alone if h["doc_id"] == doc_id), None)
        q = tokens.Text(re.sub(r"^(?:那么|那)", "", subject(query)))  # 那个体户呢 → 个体户
        if leaning == "no topic" and top is not None and top["doc_id"] != doc_id \
                and top["confidence"] >= FOLLOW_UP_NEW_TOPIC:
            own = self._terms_of(top["doc_id"]).whole
            topics = [n for n in q.nouns if n not in GENERIC_NOUNS]
            if lacking(topics, self._terms_of(doc_id).whole) - lacking(topics, own):
                leaning = None  # "这个月社保什么时候交" after a tax answer: a new question
        if leaning is None and (mine is None or mine["score"] < FOLLOW_UP_CLOSE * top["score"]):
            return []
        before = tokens.Text(after.get("question", ""))
        doc = self._terms_of(doc_id)
        # the passage is chosen with the words of both questions; the kind of fact asked is
        # the new question's, or the previous one's when it asks the same again ("那小微企业
        # 呢", "…一样吗"; not "个体户也要公示吗", a yes-or-no of its own)
        same_again = re.search(r"(?:呢|一样吗|一样不|一样么)[？?。!！]*$", q.clean) is not None
        ask = ask_of(q.clean)
        if same_again and not ask.kinds:
            ask = ask_of(before.clean)
        now = set(q.words)
        words = list(dict.fromkeys([*q.words, *before.words]))
        rowid, answer = best_answer(
            doc.answerable(), words, ask,
            lambda w: self._idf(w) * (1.0 if w in now else FOLLOW_UP_EARLIER_WORDS),
            self._knobs(found_bonus=0.0))
        hit = self._hit(doc_id, mine["score"] if mine else 0.0, rowid, answer, words, today)
        # does the answer hold what is asked (else the question is searched anew)?
        shown = tokens.Text(f"{hit['section']} {answer}")
        holds = (ask.section_fit(hit["section"]) > 0 or ask.states(answer)) if ask.kinds \
            else max(self.coverage(list(dict.fromkeys(q.words)), set(shown.words)),
                     len(set(q.grams) & set(shown.surface_grams)) / max(1, len(set(q.grams)))
                     ) >= 0.5  # of the new question's own words
        hit.update(confidence=FOLLOW_UP_CONFIDENT, follow_up=True)
        if same_again and q.clean.rstrip("？?。!！").endswith("呢") \
                and lacking(q.nouns, Terms.of(answer)):
            # "那个体户呢" after 小型微利企业 and this document's answer does not speak of 个体户:
            # the same question about it, asked again with the previous question's words —
            # the first other document whose answer speaks of it
            for other in self._ranked(f"{before.clean} {q.clean}", 5, region, today).hits:
                if other["doc_id"] != doc_id and not lacking(q.nouns, Terms.of(other["answer"])):
                    if self.answer_check and other["confidence"] < self.answer_check.threshold:
                        break
                    other["follow_up"] = True
                    return [other]
        # the document in the conversation holds what is asked: its answer alone (no
        # "related documents" found for a few words); else the question is searched anew
        return [hit] if holds else []

    def _ranked(self, query: str, top_k: int, region: str | None, today: date) -> Ranking:
        """The best documents for ``query`` by passage search, with their answers, whether
        the best answer may be shown (the answer check, else the no-answer model), and the
        no-answer model's evidence."""
        t = self.tuning
        q = tokens.Text(subject(query))
        query_words = list(dict.fromkeys(q.words))
        by_words = self._bm25("words", query_words)
        by_grams = self._bm25("grams", q.grams)
        if not by_words and not by_grams:
            return Ranking([], False, None)
        top_w, top_g = max(by_words.values(), default=1.0), max(by_grams.values(), default=1.0)
        blended = {rowid: t.word_weight * by_words.get(rowid, 0.0) / top_w
                   + (1 - t.word_weight) * by_grams.get(rowid, 0.0) / top_g
                   for rowid in by_words.keys() | by_grams.keys()}
        place = _place(region) if region else _place_in(tokens.clean(query))
        best: dict[str, tuple[float, int]] = {}
        rows = self.db.execute(
            f"SELECT rowid, doc_id FROM chunks WHERE rowid IN ({','.join('?' * len(blended))})",
            list(blended)).fetchall()
        asked = Terms(set(q.words), set(q.grams))
        for rowid, doc_id in rows:
            score = blended[rowid] * _factor(self._meta(doc_id), place, today, t, asked)
            if doc_id not in best or score > best[doc_id][0]:
                best[doc_id] = (score, rowid)
        ranked = sorted(best.items(), key=lambda kv: -kv[1][0])[:top_k]
        ask = ask_of(q.clean)
        shown = {doc_id: self._answer(doc_id, query_words, ask, rowid)
                 for doc_id, (_, rowid) in ranked}
        hits = [self._hit(doc_id, score, *shown[doc_id], query_words, today)
                for doc_id, (score, _) in ranked]
        if not hits:
            return Ranking([], False, None)
        features = self.evidence(q, hits, ranked[0][1][1])
        document = round(self.refusal.probability(features), 3)
        for h in hits:
            h["confidence"] = h["document_confidence"] = document
        if self.answer_check is None:  # not fitted: the document's confidence decides
            return Ranking(hits, document >= t.min_confidence, features)
        checked = self.answer_check.probability(self.answer_evidence(q, hits[0]))
        for h in hits:
            h["confidence"] = round(checked, 3)  # of the answer as a whole (the best hit)
        return Ranking(hits, checked >= self.answer_check.threshold, features)

    def answer_evidence(self, q: tokens.Text, hit: dict[str, Any]) -> dict[str, float]:
        """The named evidence that ``hit``'s answer is right (bot.kb.answer_check)."""
        return answer_check.evidence(
            q, hit, self._idf, lambda nouns, words, grams: len(lacking(nouns, Terms(words,
                                                                                      grams))))

    def evidence(self, q: tokens.Text, hits: list[dict[str, Any]],
                 rowid: int | None) -> Evidence:
        """How well the best hit (``rowid``, its best passage) answers the question, each
        number in [0, 1] by its name (``bot.kb.refusal.Evidence``)."""
        query_words = list(dict.fromkeys(q.words))
        nouns = list(dict.fromkeys(q.nouns))
        known = [w for w in query_words if self._frequencies().get(w, 0) > 0]
        known_share = len(known) / len(query_words) if query_words else 0.0
        scope = self.scope(q.clean) if self.scope else 1.0
        if not hits or rowid is None:
            no_nouns, no_terms = min(1.0, len(nouns) / 3), min(1.0, len(q.terms) / 2)
            return Evidence(
                passage_word_coverage=0.0, known_word_share=known_share,
                passage_bigram_coverage=0.0, document_word_coverage=0.0, score_margin=0.0,
                scope=scope, nouns_lacking=no_nouns, terms_lacking=no_terms,
                terms_lacking_passage=no_terms, terms_lacking_focus=no_terms,
                terms_mentioned_once=no_terms, nouns_lacking_passage=no_nouns,
                passage_word_share=0.0, terms_lacking_second=no_terms)
        doc = self._terms_of(hits[0]["doc_id"])
        passage = doc.passages[rowid]
        second = self._terms_of(hits[1]["doc_id"]).whole if len(hits) > 1 else Terms()
        qg = set(q.grams)
        general = [tokens.general_idf(w) for w in query_words]
        margin = hits[0]["score"] - (hits[1]["score"] if len(hits) > 1 else 0.0)
        return Evidence(
            passage_word_coverage=self.coverage(query_words, passage.words),
            known_word_share=known_share,
            passage_bigram_coverage=len(qg & passage.grams) / len(qg) if qg else 0.0,
            document_word_coverage=(
                sum(g for w, g in zip(query_words, general, strict=True) if w in doc.whole.words)
                / sum(general)) if sum(general) else 0.0,
            score_margin=min(1.0, margin),
            scope=scope,
            nouns_lacking=min(1.0, len(lacking(nouns, doc.whole)) / 3),
            terms_lacking=min(1.0, len(lacking(q.terms, doc.whole)) / 2),
            terms_lacking_passage=min(1.0, len(lacking(q.terms, passage)) / 2),
            terms_lacking_focus=min(1.0, len(lacking(q.terms, doc.focus)) / 2),
            terms_mentioned_once=min(1.0, sum(doc.counts[w] <= 1 for w in q.terms) / 2),
            nouns_lacking_passage=min(1.0, len(lacking(nouns, passage)) / 3),
            passage_word_share=sum(w in passage.words for w in query_words) / len(query_words)
            if query_words else 0.0,
            terms_lacking_second=min(1.0, len(lacking(q.terms, second)) / 2))

    def _answer(self, doc_id: str, words: list[str], ask: Ask,
                found: int | None) -> tuple[int, str]:
        """The passage of ``doc_id`` that answers the question and the answer shown: the
        passage the search found (``found``) unless another holds a sentence that answers
        better (the conditions, not the procedure)."""
        return best_answer(self._terms_of(doc_id).answerable(), words, ask, self._idf,
                           self._knobs(), found)

    def _knobs(self, found_bonus: float | None = None) -> Knobs:
        """How an answering sentence is chosen (``Tuning``); a follow-up has no passage
        the search found, so no bonus for one."""
        t = self.tuning
        return Knobs(t.section_weight, t.found_bonus if found_bonus is None else found_bonus,
                     t.sentence_ask_bonus, t.answer_chars)

    def _terms_of(self, doc_id: str) -> DocTerms:
        """The words and bigrams of a document, of its title and headings, and of each
        of its passages (cached)."""
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
        focus = tokens.Text(" ".join([self._meta(doc_id)["title"], *sorted(sections)]))
        doc.focus.words.update(focus.words)
        doc.focus.grams.update(focus.surface_grams)
        if len(self._doc_terms) >= 512:  # bounded: a large knowledge base is not all held
            self._doc_terms.clear()
        self._doc_terms[doc_id] = doc
        return doc

    def coverage(self, query_words: list[str], passage_words: set[str]) -> float:
        """IDF-weighted share of the query's words that the passage contains (words the
        knowledge base never uses weigh most: they are what it cannot answer)."""
        total = sum(self._idf(w) for w in query_words)
        if total == 0:
            return 0.0
        return sum(self._idf(w) for w in query_words if w in passage_words) / total

    def _faq_hit(self, entry: FaqEntry, today: date) -> dict[str, Any]:
        doc = self._terms_of(entry.doc)
        rowid = next((r for r in sorted(doc.passages) if doc.sections[r] == entry.section),
                     min(doc.passages))
        hit = self._hit(entry.doc, 1.0, rowid, entry.a, [], today)
        hit.update(faq_id=entry.id, confidence=1.0, coverage=1.0)
        return hit

    def _hit(self, doc_id: str, score: float, rowid: int, answer: str,
             query_words: list[str], today: date) -> dict[str, Any]:
        doc = self._terms_of(doc_id)
        meta = self._meta(doc_id)
        until = meta.get("valid_until")
        successor = meta.get("superseded_by")
        text = doc.texts[rowid]
        return {"doc_id": doc_id, "title": meta["title"], "score": round(score, 4),
                "passage_id": rowid, "section": doc.sections[rowid], "snippet": snippet(text),
                "passage": text, "answer": answer,
                "url": meta.get("url", ""), "doc_no": meta.get("doc_no", ""),
                "issuer": meta.get("issuer", ""), "date": meta.get("date", ""),
                "region": meta.get("region", ""), "valid_until": until,
                "expired": bool(until and date.fromisoformat(until) < today),
                "superseded_by": successor,
                "successor": self._successor(successor),
                "coverage": round(self.coverage(query_words, doc.passages[rowid].words), 3)}

    def _successor(self, doc_id: str | None) -> dict[str, str] | None:
        """The title and number of the document that replaces another, when known."""
        meta = self._all_metas().get(doc_id or "")
        return {"doc_id": meta["id"], "title": meta["title"],
                "doc_no": meta.get("doc_no", "")} if meta else None


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


#: entities that say who asks, not what about: left out of the search
_CALLER = {"phone", "credit_code", "id_number", "ticket_number"}
#: a registered company name (龙游县恒丰纸业有限公司) is who asks too — but not 担保公司,
#: 外资公司 or 个人独资企业转成有限公司, which are what the question is about (measured)
_REGISTERED_NAME = re.compile(r"^[^转成给跟和与的是]{4,}(?:股份有限公司|有限责任公司|有限公司)$")


def subject(query: str) -> str:
    """The question without who asks: the caller's numbers (phone, credit code, ID and
    ticket numbers) and a registered company name (龙游县恒丰纸业有限公司; its place still
    prefers local documents, read from the whole question) — unknown to every document,
    they would count as what it lacks."""
    text = normalize(query).text
    for ent in reversed(extract_entities(text)):
        if ent.entity in _CALLER or (ent.entity == "company"
                                     and _REGISTERED_NAME.match(ent.value)):
            text = f"{text[:ent.start]} {text[ent.end:]}"
    return text


def snippet(text: str, limit: int = 160) -> str:
    """The passage cut at a sentence end near ``limit`` characters."""
    flat = text.replace("\n", " ")
    if len(flat) <= limit:
        return flat
    cut = max(flat.rfind(p, 0, limit) for p in "。；！？")
    return flat[:cut + 1] if cut >= limit // 2 else flat[:limit] + "…"


@dataclass(frozen=True)
class _Place:
    names: frozenset[str]  # the region itself, its city, the province


def _place(name: str) -> _Place | None:
    """The user's place from a region name; a full name (杭州市上城区) counts as its most
    specific part."""
    table = region_table()
    region = table.get(name)
    if region is None:
        found = [r for _, _, r in table.find(tokens.clean(name))]
        region = next((r for r in found if r.city), found[0] if found else None)
    if region is None:
        return None
    names = {region.name, "浙江省", "全国"}
    if region.city:
        names.add(region.city)
    return _Place(frozenset(names))


def _place_in(cleaned: str) -> _Place | None:
    found = [r for _, _, r in region_table().find(cleaned)]
    return _place(found[0].name) if found else None


def _factor(meta: dict[str, Any], place: _Place | None, today: date, t: Tuning,
            asked: Terms | None = None) -> float:
    factor = 1.0
    audience = meta.get("audience") or []
    if audience and asked is not None and len(lacking(audience, asked)) == len(audience):
        factor *= t.other_audience_factor  # for 集成电路 firms; the question names none
    until = meta.get("valid_until")
    if until and date.fromisoformat(until) < today:
        factor *= t.expired_factor
    doc_region = meta.get("region") or "全国"
    if place is not None and doc_region not in ("全国", "浙江省"):
        factor *= t.own_region_factor if doc_region in place.names else t.other_region_factor
    return factor
