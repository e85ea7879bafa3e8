"""Common problems (共性问题): demands from different enterprises about the same concrete
obstacle, grouped so that one report can go to the level that can remove it.

Two demands are candidates when they share the sub-topic, lie in the same city (a county
and its neighbours under one city) and within ``window`` days of each other. Their texts
are compared by TF-IDF cosine over jieba words and character bigrams of the normalised
text (Traditional characters folded, the knowledge base's glossary and user dictionary
applied: ``bot.kb.tokens``), a same-county pair counting a little more; pairs at or above
``threshold`` are linked and the groups are the linked sets of at least two enterprises
(average linkage: a demand joins a group only when it is close to the group as a whole,
so one loose link does not chain two problems together). The method and its threshold
are measured on a hand-labelled set (``bench/commons.py``, ``data/commons/``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from scipy.sparse import spmatrix
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.kb import tokens
from bot.regions import region_table

WINDOW_DAYS = 30
THRESHOLD = 0.15  # chosen on half the labelled set, checked on the other (bench/commons.py)
SAME_COUNTY_BONUS = 0.05


@dataclass(frozen=True)
class Demand:
    id: str
    text: str
    subtopic: str
    region: str
    day: int  # days since any fixed date
    enterprise: str = ""


@dataclass
class Group:
    demands: list[Demand] = field(default_factory=list)

    @property
    def enterprises(self) -> set[str]:
        return {d.enterprise or d.id for d in self.demands}


def city_of(region: str) -> str:
    place = region_table().get(region)
    if place is None:
        return region
    return place.city or place.name


def features(texts: Sequence[str]) -> spmatrix:
    """Unit-length TF-IDF vectors (sparse rows) of jieba words and character bigrams."""
    def analyse(text: str) -> list[str]:
        t = tokens.Text(text)
        return [*t.words, *(f"#{g}" for g in t.surface_grams)]
    return TfidfVectorizer(analyzer=analyse, sublinear_tf=True).fit_transform(texts)


def similarities(demands: Sequence[Demand], window: int = WINDOW_DAYS) -> dict[tuple[int, int],
                                                                                float]:
    """The similarity of every candidate pair (indexes into ``demands``, i < j)."""
    if len(demands) < 2:
        return {}
    vectors = features([d.text for d in demands])
    cities = [city_of(d.region) for d in demands]
    by_key: dict[tuple[str, str], list[int]] = {}
    for i, d in enumerate(demands):
        by_key.setdefault((d.subtopic, cities[i]), []).append(i)
    out: dict[tuple[int, int], float] = {}
    for members in by_key.values():
        if len(members) < 2:
            continue
        sims = (vectors[members] @ vectors[members].T).toarray()
        for a in range(len(members)):
            for b in range(a + 1, len(members)):
                i, j = members[a], members[b]
                if abs(demands[i].day - demands[j].day) > window:
                    continue
                bonus = SAME_COUNTY_BONUS if demands[i].region == demands[j].region else 0.0
                out[(i, j)] = float(sims[a, b]) + bonus
    return out


def group(demands: Sequence[Demand], threshold: float = THRESHOLD,
          window: int = WINDOW_DAYS) -> list[Group]:
    """The common problems among ``demands``: groups of two or more enterprises, the
    largest first."""
    sims = similarities(demands, window)
    clusters: list[set[int]] = [{i} for i in range(len(demands))]
    owner = list(range(len(demands)))

    def linkage(a: set[int], b: set[int]) -> float:
        total = sum(sims.get((min(i, j), max(i, j)), 0.0) for i in a for j in b)
        return total / (len(a) * len(b))

    # merge the closest pair of clusters while their average similarity is high enough
    for (i, j), _ in sorted(sims.items(), key=lambda kv: -kv[1]):
        ci, cj = owner[i], owner[j]
        if ci == cj or linkage(clusters[ci], clusters[cj]) < threshold:
            continue
        clusters[ci] |= clusters[cj]
        for k in clusters[cj]:
            owner[k] = ci
        clusters[cj] = set()
    groups = [Group([demands[i] for i in sorted(c)]) for c in clusters if len(c) > 1]
    groups = [g for g in groups if len(g.enterprises) > 1]
    return sorted(groups, key=lambda g: -len(g.demands))


def pairs_of(groups: Iterable[Group]) -> set[tuple[str, str]]:
    """The pairs of demand ids the grouping puts together."""
    out = set()
    for g in groups:
        ids = sorted(d.id for d in g.demands)
        out |= {(a, b) for n, a in enumerate(ids) for b in ids[n + 1:]}
    return out
