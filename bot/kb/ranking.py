"""How passages and documents are ranked: the two BM25 rankings (words and bigrams)
normalised and blended, the very common query terms left out, each document scored by its
best passage times its factors — expired, another region's, for an audience the question
does not name — and the question stripped of who asks (``subject``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any, NamedTuple

from bot.entities import extract_entities
from bot.kb import tokens
from bot.kb.corpus import Corpus, Terms, lacking
from bot.kb.refusal import Evidence
from bot.regions import region_table
from bot.text import normalize


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


class Ranking(NamedTuple):
    """One passage search: the documents with their answers, best first; whether the best
    answer may be shown; the no-answer model's evidence (None: nothing matched)."""

    hits: list[dict[str, Any]]
    answerable: bool
    evidence: Evidence | None


def selective(corpus: Corpus, table: str, terms: list[str], t: Tuning) -> list[str]:
    """``terms`` without the very common ones (``Tuning.gram_df_share`` and
    ``word_df_share``), in order."""
    df = corpus.frequencies(table)
    share = t.gram_df_share if table == "grams" else t.word_df_share
    limit = max(share * corpus.n, t.prune_above)
    common = {w for w in terms if df.get(w, 0) > limit}
    if len(terms) - len(common) < t.min_query_terms:
        rare_first = sorted(terms, key=lambda w: df.get(w, 0))
        common -= set(rare_first[:t.min_query_terms])
    return [w for w in terms if w not in common]


def rank(corpus: Corpus, q: tokens.Text, place: Place | None, today: date, t: Tuning,
         top_k: int) -> list[tuple[str, float, int]]:
    """The best ``top_k`` documents for the question: (document id, score, its best
    passage's rowid), best first."""
    by_words = corpus.bm25("words", selective(corpus, "words", list(dict.fromkeys(q.words)),
                                              t), t.candidates)
    by_grams = corpus.bm25("grams", selective(corpus, "grams", list(dict.fromkeys(q.grams)),
                                              t), t.candidates)
    if not by_words and not by_grams:
        return []
    top_w, top_g = max(by_words.values(), default=1.0), max(by_grams.values(), default=1.0)
    blended = {rowid: t.word_weight * by_words.get(rowid, 0.0) / top_w
               + (1 - t.word_weight) * by_grams.get(rowid, 0.0) / top_g
               for rowid in by_words.keys() | by_grams.keys()}
    asked = Terms(set(q.words), set(q.grams))
    best: dict[str, tuple[float, int]] = {}
    for rowid, doc_id in corpus.documents_of(blended):
        score = blended[rowid] * document_factor(corpus.meta(doc_id), place, today, t, asked)
        if doc_id not in best or score > best[doc_id][0]:
            best[doc_id] = (score, rowid)
    ranked = sorted(best.items(), key=lambda kv: -kv[1][0])[:top_k]
    return [(doc_id, score, rowid) for doc_id, (score, rowid) in ranked]


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


@dataclass(frozen=True)
class Place:
    names: frozenset[str]  # the region itself, its city, the province


def place_named(name: str) -> Place | None:
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
    return Place(frozenset(names))


def place_in(cleaned: str) -> Place | None:
    found = [r for _, _, r in region_table().find(cleaned)]
    return place_named(found[0].name) if found else None


def document_factor(meta: dict[str, Any], place: Place | None, today: date, t: Tuning,
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
