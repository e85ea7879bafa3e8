"""The knowledge base: search with answers and citations over one SQLite file with two
FTS5 indexes over the passages (``bot.kb.schema``; written by ``bot.kb.ingest``, read
through ``bot.kb.corpus``, ranked by ``bot.kb.ranking``, judged by ``bot.kb.evidence``).

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

import logging
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from bot.kb import answer_check, evidence, tokens
from bot.kb.answer import (
    GENERIC_NOUNS,
    Ask,
    Knobs,
    ask_of,
    best_answer,
    leans_on_answer,
    question_core,
)
from bot.kb.answer_check import AnswerCheck
from bot.kb.corpus import Corpus, Terms, lacking
from bot.kb.faq import FaqEntry, FaqMatcher
from bot.kb.ingest import IngestReport, ingest
from bot.kb.ranking import Ranking, Tuning, place_in, place_named, rank, subject
from bot.kb.refusal import Evidence, RefusalModel
from bot.kb.schema import connect

logger = logging.getLogger(__name__)

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
        self.db = connect(path, create)
        self.corpus = Corpus(self.db)
        self.use_faq = True  # False: passage search only (fitting the answer check)
        self.use_core = True  # False: the whole message is searched (measuring)
        self.refusal = refusal or RefusalModel.load()
        if check is True:
            check = AnswerCheck.load() if answer_check.MODEL_FILE.exists() else None
        self.answer_check: AnswerCheck | None = check or None

    def close(self) -> None:
        self.db.close()

    def ingest(self, folder: Path) -> IngestReport:
        """Bring the knowledge base in line with ``folder`` (``bot.kb.ingest``)."""
        report = ingest(self.db, folder)
        self.corpus.forget()
        return report

    def faq(self) -> FaqMatcher:
        """The standard questions."""
        return self.corpus.faq()

    def documents(self) -> list[dict[str, Any]]:
        return self.corpus.documents()

    def versions(self) -> dict[str, str]:
        """Every document's content hash by id."""
        return self.corpus.versions()

    def sections(self, doc_id: str) -> set[str]:
        """The section names of a document (empty when it is not in the knowledge base)."""
        return self.corpus.sections(doc_id)

    def warm_up(self) -> None:
        """Load everything a search needs (jieba and its tagger, the scope, no-answer and
        answer-check models, the standard questions, the term tables) by answering a
        question and a follow-up: the first user's question is then as fast as the next."""
        hits = self.search(WARM_UP_QUESTION, top_k=3, refuse=False)
        if hits:
            self.search("那个体工商户呢", top_k=3,
                        after={"doc_id": hits[0]["doc_id"], "question": WARM_UP_QUESTION})

    def search(self, query: str, top_k: int = 5, region: str | None = None,
               today: date | None = None, refuse: bool = True,
               after: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """The best documents for ``query``, best first; ``[]`` when nothing answers it. A
        question that is one of the standard questions (bot.kb.faq) gets its answer
        first. ``after`` is the previous answer in the conversation (``doc_id`` and
        ``question``): a follow-up question is answered from that document."""
        today = today or date.today()
        query = self._prepared(query)
        in_conversation = bool(after) and after.get("doc_id") in self.corpus.metas()
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
        self.corpus.refresh()
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
            own = self.corpus.terms_of(top["doc_id"]).whole
            topics = [n for n in q.nouns if n not in GENERIC_NOUNS]
            if lacking(topics, self.corpus.terms_of(doc_id).whole) - lacking(topics, own):
                leaning = None  # "这个月社保什么时候交" after a tax answer: a new question
        if leaning is None and (mine is None or mine["score"] < FOLLOW_UP_CLOSE * top["score"]):
            return []
        before = tokens.Text(after.get("question", ""))
        doc = self.corpus.terms_of(doc_id)
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
            lambda w: self.corpus.idf(w) * (1.0 if w in now else FOLLOW_UP_EARLIER_WORDS),
            self._knobs(found_bonus=0.0))
        hit = self._hit(doc_id, mine["score"] if mine else 0.0, rowid, answer, words, today)
        # does the answer hold what is asked (else the question is searched anew)?
        shown = tokens.Text(f"{hit['section']} {answer}")
        holds = (ask.section_fit(hit["section"]) > 0 or ask.states(answer)) if ask.kinds \
            else max(self.corpus.coverage(list(dict.fromkeys(q.words)), set(shown.words)),
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
        place = place_named(region) if region else place_in(tokens.clean(query))
        ranked = rank(self.corpus, q, place, today, t, top_k)
        if not ranked:
            return Ranking([], False, None)
        ask = ask_of(q.clean)
        hits = [self._hit(doc_id, score, *self._answer(doc_id, query_words, ask, rowid),
                          query_words, today)
                for doc_id, score, rowid in ranked]
        features = self.evidence(q, hits, ranked[0][2])
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
        return evidence.answer_evidence(self.corpus, q, hit)

    def evidence(self, q: tokens.Text, hits: list[dict[str, Any]],
                 rowid: int | None) -> Evidence:
        """How well the best hit (``rowid``, its best passage) answers the question, each
        number in [0, 1] by its name (``bot.kb.refusal.Evidence``)."""
        return evidence.document_evidence(self.corpus, q, hits, rowid, self.scope)

    def _answer(self, doc_id: str, words: list[str], ask: Ask,
                found: int | None) -> tuple[int, str]:
        """The passage of ``doc_id`` that answers the question and the answer shown: the
        passage the search found (``found``) unless another holds a sentence that answers
        better (the conditions, not the procedure)."""
        return best_answer(self.corpus.terms_of(doc_id).answerable(), words, ask, self.corpus.idf,
                           self._knobs(), found)

    def _knobs(self, found_bonus: float | None = None) -> Knobs:
        """How an answering sentence is chosen (``Tuning``); a follow-up has no passage
        the search found, so no bonus for one."""
        t = self.tuning
        return Knobs(t.section_weight, t.found_bonus if found_bonus is None else found_bonus,
                     t.sentence_ask_bonus, t.answer_chars)

    def _faq_hit(self, entry: FaqEntry, today: date) -> dict[str, Any]:
        doc = self.corpus.terms_of(entry.doc)
        rowid = next((r for r in sorted(doc.passages) if doc.sections[r] == entry.section),
                     min(doc.passages))
        hit = self._hit(entry.doc, 1.0, rowid, entry.a, [], today)
        hit.update(faq_id=entry.id, confidence=1.0, coverage=1.0)
        return hit

    def _hit(self, doc_id: str, score: float, rowid: int, answer: str,
             query_words: list[str], today: date) -> dict[str, Any]:
        doc = self.corpus.terms_of(doc_id)
        meta = self.corpus.meta(doc_id)
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
                "coverage": round(self.corpus.coverage(query_words, doc.passages[rowid].words), 3)}

    def _successor(self, doc_id: str | None) -> dict[str, str] | None:
        """The title and number of the document that replaces another, when known."""
        meta = self.corpus.metas().get(doc_id or "")
        return {"doc_id": meta["id"], "title": meta["title"],
                "doc_no": meta.get("doc_no", "")} if meta else None


def snippet(text: str, limit: int = 160) -> str:
    """The passage cut at a sentence end near ``limit`` characters."""
    flat = text.replace("\n", " ")
    if len(flat) <= limit:
        return flat
    cut = max(flat.rfind(p, 0, limit) for p in "。；！？")
    return flat[:cut + 1] if cut >= limit // 2 else flat[:limit] + "…"
