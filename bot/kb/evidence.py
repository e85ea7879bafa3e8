"""The evidence that a search answered the question, by name: how much of the question
the best passage and document hold (``bot.kb.refusal.Evidence``, read by the no-answer
model) and whether the answer shown holds the asked fact (``bot.kb.answer_check``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from bot.kb import answer_check, tokens
from bot.kb.corpus import Corpus, Terms, lacking
from bot.kb.refusal import Evidence


def answer_evidence(corpus: Corpus, q: tokens.Text, hit: dict[str, Any]) -> dict[str, float]:
    """The named evidence that ``hit``'s answer is right (bot.kb.answer_check)."""
    return answer_check.evidence(
        q, hit, corpus.idf, lambda nouns, words, grams: len(lacking(nouns, Terms(words,
                                                                                  grams))))

def document_evidence(corpus: Corpus, q: tokens.Text, hits: list[dict[str, Any]],
                      rowid: int | None, scope: Callable[[str], float] | None) -> Evidence:
    """How well the best hit (``rowid``, its best passage) answers the question, each
    number in [0, 1] by its name (``bot.kb.refusal.Evidence``)."""
    query_words = list(dict.fromkeys(q.words))
    nouns = list(dict.fromkeys(q.nouns))
    known = [w for w in query_words if corpus.frequencies().get(w, 0) > 0]
    known_share = len(known) / len(query_words) if query_words else 0.0
    scope = scope(q.clean) if scope else 1.0
    if not hits or rowid is None:
        no_nouns, no_terms = min(1.0, len(nouns) / 3), min(1.0, len(q.terms) / 2)
        return Evidence(
            passage_word_coverage=0.0, known_word_share=known_share,
            passage_bigram_coverage=0.0, document_word_coverage=0.0, score_margin=0.0,
            scope=scope, nouns_lacking=no_nouns, terms_lacking=no_terms,
            terms_lacking_passage=no_terms, terms_lacking_focus=no_terms,
            terms_mentioned_once=no_terms, nouns_lacking_passage=no_nouns,
            passage_word_share=0.0, terms_lacking_second=no_terms)
    doc = corpus.terms_of(hits[0]["doc_id"])
    passage = doc.passages[rowid]
    second = corpus.terms_of(hits[1]["doc_id"]).whole if len(hits) > 1 else Terms()
    qg = set(q.grams)
    general = [tokens.general_idf(w) for w in query_words]
    margin = hits[0]["score"] - (hits[1]["score"] if len(hits) > 1 else 0.0)
    return Evidence(
        passage_word_coverage=corpus.coverage(query_words, passage.words),
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
