"""Common problems (共性问题): demands from different enterprises about the same concrete
obstacle, grouped so that one report can go to the level that can remove it.

Candidates. Two demands are compared only when they share the sub-topic, lie in the same
city (a county and its neighbours under one city) and within ``window`` days of each
other; nothing else is ever grouped, which keeps the work small.

Score of a pair: the TF-IDF cosine of the two texts plus a few fixed, readable parts
(``Weights``; ``pair_parts`` lists them, so an operator can be told why two demands were
put together). The cue words are in ``commons_cues.yml``.

* text: jieba words and character bigrams of the normalised text (Traditional folded, the
  knowledge base's glossary and user dictionary applied: ``bot.kb.tokens``), plus one
  token per concept and per place the text names;
* concepts: short synonym lists of obstacles (停电 / 断电 / 跳闸 / 限电 are all 电; 没水 /
  水压 / 爆管 are 水; 修路 / 封路 / 限高 are 道路 ...): +0.05 when the two share one. 电,
  水 and 气 exclude one another: a power cut and low water pressure are never grouped;
* places: a sub-county name before 镇 / 路 / 工业区 / 片区 / 这边 ... (苏溪镇, 兴业路, 佛堂
  工业区): +0.10 when shared; two demands that name places, none shared, are never
  grouped (places one demand names together, 城南片区（兴业路）, count as one area);
* consultations: −0.05 for each of the two that asks how to apply, what it takes, or
  whether a policy exists, rather than reporting an obstacle (next year's subsidy is not
  the unpaid one).

Groups: agglomeration over the scored pairs, best first, with "guarded" average linkage:
two groups merge when the mean score across them is at least ``threshold`` (pairs never
compared count 0, a vetoed pair forbids the merge); when either holds a consultation, the
lowest score must reach it instead, so a question joins only a group it is close to member
by member. Groups of at least two enterprises are returned, the largest first. Ten
thousand demands (175,000 candidate pairs) take about 6 s here, nearly all of it jieba.

Measured on the hand-labelled set (``bench/commons.py``, ``reports/commons_eval.md``):
with the threshold chosen on one half of the problems and scored on the other, precision
0.932 / recall 0.985 and 0.902 / 0.907 (target: precision ≥ 0.9 at recall ≥ 0.7); the
method before (cosine only, +0.05 in the same county, average linkage) had 0.915 / 0.385
and 0.939 / 0.421 on the old threshold grid, 0.860 / 0.503 and 0.904 / 0.617 on the one
extended downwards. Thresholds 0.015–0.065 all meet the target on both halves; the default
0.06 keeps the most precision on the whole set: 0.845 at recall 0.778 (before: 0.859 at
recall 0.402). The half figures flatter the method: a wrong join whose two demands fall
in different halves counts in neither. Split by sub-topic and city instead, so that every
error counts, the same protocol gives 0.844 / 0.518 and 0.923 / 0.201 (before: 0.812 /
0.457 and 0.812 / 0.073). The cue lists were written by someone who had read the labelled
set: expect less on new demands.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from scipy.sparse import spmatrix
from sklearn.feature_extraction.text import TfidfVectorizer

from bot.kb import tokens
from bot.regions import region_table

WINDOW_DAYS = 30
THRESHOLD = 0.06  # see bench/commons.py and reports/commons_eval.md
CUES_FILE = Path(__file__).resolve().parent / "commons_cues.yml"
_HAN = re.compile(r"[\u4e00-\u9fff]+")
#: the score of a pair that may never be in one group
VETO = float("-inf")


@dataclass(frozen=True)
class Weights:
    """What each fact adds to (or takes from) the cosine of two texts, and the linkage."""
    shared_concept: float = 0.05
    exclusive_concepts: float = VETO
    shared_place: float = 0.10
    different_places: float = VETO
    consultation: float = -0.05  # for each of the two demands that is one
    same_county: float = 0.0  # the method before added 0.05: it only let unrelated texts in
    cue_tokens: bool = True  # concepts and places also become tokens of the text
    linkage: str = "guarded"  # "average", but "complete" for consultations; or either


WEIGHTS = Weights()


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


# -- cues -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Cues:
    concepts: dict[str, str]  # surface word → concept
    concept_pattern: re.Pattern[str]
    exclusive: tuple[frozenset[str], ...]
    consultation: re.Pattern[str]
    name_suffixes: frozenset[str]
    suffixes: frozenset[str]
    not_places: frozenset[str]


@lru_cache(maxsize=1)
def cues() -> Cues:
    raw = yaml.safe_load(CUES_FILE.read_text(encoding="utf-8"))
    concepts = {tokens.clean(w): name for name, words in raw["concepts"].items() for w in words}
    longest_first = sorted(concepts, key=len, reverse=True)
    return Cues(concepts, re.compile("|".join(map(re.escape, longest_first))),
                tuple(frozenset(names) for names in raw["exclusive"]),
                re.compile("|".join(f"(?:{p})" for p in raw["consultation"])),
                frozenset(raw["place_name_suffixes"]),
                frozenset(raw["place_name_suffixes"]) | frozenset(raw["place_suffixes"]),
                frozenset(raw["not_places"]))


@lru_cache(maxsize=1)
def _proper_nouns() -> frozenset[str]:
    """The dictionary's words that jieba tags as place, person or other proper names."""
    tokenizer = tokens._jieba()
    tokenizer.check_initialized()
    proper: set[str] = set()
    with tokenizer.get_dict_file() as lines:
        for line in lines:
            word, _, tag = line.decode("utf-8").split()[:3]
            if tag.startswith(("ns", "nz", "nr")):
                proper.add(word)
    for word, tag in tokenizer.user_word_tag_tab.items():
        (proper.add if tag.startswith(("ns", "nz", "nr")) else proper.discard)(word)
    return frozenset(proper)


def places(words: Sequence[str]) -> list[str]:
    """Sub-county places named in a text (its jieba tokens): a name of two or three Han
    characters right before a place word (苏溪镇 → 苏溪, 兴业路 → 兴业, 佛堂 工业区 →
    佛堂, 瓜沥 这边 → 瓜沥). Counties and cities are left out (the region says them)."""
    c = cues()
    known, nouns, proper = tokens._jieba().FREQ, tokens._noun_words(), _proper_nouns()
    regions = region_table().surface
    found: list[str] = []
    for k, word in enumerate(words):
        after = words[k + 1] if k + 1 < len(words) else ""
        suffix = next((x for x in c.name_suffixes if word.endswith(x)), "")
        if suffix and len(word) - len(suffix) >= 2:  # 苏溪镇, 朝阳路
            name, named = word[:-len(suffix)], True
        elif after in c.suffixes:
            name, named = word, after in c.name_suffixes
        else:
            continue
        if (not 2 <= len(name) <= 3 or not _HAN.fullmatch(name) or name in c.not_places
                or name in regions or name in tokens.STOPWORDS):
            continue
        if known.get(name) and not (name in proper or (named and name in nouns)):
            continue  # a common word: 还有 镇里, 税务 那边
        found.append(name)
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class Profile:
    """What the grouping reads from one demand's text."""
    words: tuple[str, ...]
    grams: tuple[str, ...]
    concepts: frozenset[str]
    places: frozenset[str]
    consultation: bool


def profile(text: str) -> Profile:
    c, t = cues(), tokens.Text(text)
    return Profile(tuple(t.words), tuple(t.surface_grams),
                   frozenset(c.concepts[m.group()] for m in c.concept_pattern.finditer(t.clean)),
                   frozenset(places(t.tokens)), bool(c.consultation.search(t.clean)))


# -- scores -----------------------------------------------------------------------------------
def features(items: Sequence[Profile | str], cue_tokens: bool = True) -> spmatrix:
    """Unit-length TF-IDF vectors (sparse rows) of jieba words and character bigrams, with
    one token per concept and place named, of texts or their profiles."""
    def analyse(p: Profile) -> list[str]:
        out = [*p.words, *(f"#{g}" for g in p.grams)]
        if cue_tokens:
            out += [*(f"~{c}" for c in sorted(p.concepts)), *(f"@{x}" for x in sorted(p.places))]
        return out
    profiles = [profile(x) if isinstance(x, str) else x for x in items]
    return TfidfVectorizer(analyzer=analyse, sublinear_tf=True).fit_transform(profiles)


def pair_parts(a: Profile, b: Profile, cosine: float, same_county: bool = False,
               weights: Weights = WEIGHTS,
               areas: tuple[frozenset[str], frozenset[str]] | None = None) -> dict[str, float]:
    """The score of a pair, part by part (it is their sum): what an operator is shown.
    ``areas`` are the two demands' places with the names of one area merged (``areas_of``);
    by default, their places."""
    parts = {"text": cosine}
    if same_county and weights.same_county:
        parts["same_county"] = weights.same_county
    if a.concepts & b.concepts:
        parts["shared_concept"] = weights.shared_concept
    if any(a.concepts & ex and b.concepts & ex and not a.concepts & b.concepts & ex
           for ex in cues().exclusive):
        parts["exclusive_concepts"] = weights.exclusive_concepts
    x, y = areas or (a.places, b.places)
    if x and y:
        parts["places"] = weights.shared_place if x & y else weights.different_places
    if a.consultation or b.consultation:
        parts["consultation"] = weights.consultation * (a.consultation + b.consultation)
    return parts


def areas_of(profiles: Sequence[Profile]) -> list[frozenset[str]]:
    """Each demand's places, where places that one of ``profiles`` names together count as
    one area (城南片区（兴业路）: 兴业 is in 城南, so 兴业路这边 and 城南那边 agree)."""
    parent: dict[str, str] = {}

    def root(x: str) -> str:
        while parent.setdefault(x, x) != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in profiles:
        names = sorted(p.places)
        for other in names[1:]:
            parent[root(other)] = root(names[0])
    return [frozenset(root(x) for x in p.places) for p in profiles]


def _blocks(demands: Sequence[Demand]) -> list[list[int]]:
    """Demands of one sub-topic and city, by day; only blocks of two or more."""
    by_key: dict[tuple[str, str], list[int]] = {}
    for i, d in enumerate(demands):
        by_key.setdefault((d.subtopic, city_of(d.region)), []).append(i)
    return [sorted(m, key=lambda i: demands[i].day) for m in by_key.values() if len(m) > 1]


def _close(demands: Sequence[Demand], block: list[int], window: int):
    """The pairs of a block at most ``window`` days apart, as positions in the block."""
    for a, i in enumerate(block):
        for b in range(a + 1, len(block)):
            if demands[block[b]].day - demands[i].day > window:
                break
            yield a, b


def candidates(demands: Sequence[Demand], window: int = WINDOW_DAYS) -> list[tuple[int, int]]:
    """The pairs that may be grouped (indexes, i < j): same sub-topic, same city, at most
    ``window`` days apart."""
    return [(min(block[a], block[b]), max(block[a], block[b]))
            for block in _blocks(demands) for a, b in _close(demands, block, window)]


@dataclass(frozen=True)
class Scores:
    pairs: dict[tuple[int, int], float]  # (i, j), i < j → score
    consultations: frozenset[int]  # the demands that are consultations


def score(demands: Sequence[Demand], window: int = WINDOW_DAYS, weights: Weights = WEIGHTS,
          known: Sequence[Profile] | None = None) -> Scores:
    """The score of every candidate pair, and which demands are consultations (``known``:
    the demands' profiles, when already worked out)."""
    blocks = _blocks(demands)
    involved = sorted({i for block in blocks for i in block})
    if not involved:
        return Scores({}, frozenset())
    profiles = {i: known[i] if known else profile(demands[i].text) for i in involved}
    vectors = features([profiles[i] for i in involved], weights.cue_tokens)
    row = {i: n for n, i in enumerate(involved)}
    out: dict[tuple[int, int], float] = {}
    for block in blocks:
        rows = vectors[[row[i] for i in block]]
        cosines = (rows @ rows.T).toarray()
        areas = areas_of([profiles[i] for i in block])
        for a, b in _close(demands, block, window):
            i, j = block[a], block[b]
            parts = pair_parts(profiles[i], profiles[j], float(cosines[a, b]),
                               demands[i].region == demands[j].region, weights,
                               (areas[a], areas[b]))
            out[(min(i, j), max(i, j))] = sum(parts.values())
    return Scores(out, frozenset(i for i, p in profiles.items() if p.consultation))


def similarities(demands: Sequence[Demand], window: int = WINDOW_DAYS,
                 weights: Weights = WEIGHTS) -> dict[tuple[int, int], float]:
    """The score of every candidate pair (indexes into ``demands``, i < j)."""
    return score(demands, window, weights).pairs


# -- groups -----------------------------------------------------------------------------------
def cluster(demands: Sequence[Demand], sims: dict[tuple[int, int], float], threshold: float,
            linkage: str = WEIGHTS.linkage, careful: Collection[int] = ()) -> list[Group]:
    """Agglomerate demands over the scored pairs, best first: two groups merge when their
    linkage is at least ``threshold`` (> 0). ``average``: the mean score across them;
    ``complete``: the lowest; ``guarded``: the mean, but the lowest when either group holds
    a ``careful`` demand (a consultation joins only a group it is close to as a whole,
    member by member). A pair that was not scored counts 0."""
    members: dict[int, list[int]] = {i: [i] for i in range(len(demands))}
    owner = list(range(len(demands)))
    strict = {i: i in careful for i in members}
    # for each pair of groups with scored pairs between them: [sum, lowest, how many]
    links: dict[int, dict[int, list[float]]] = {i: {} for i in members}
    for (i, j), s in sims.items():
        links[i][j] = links[j][i] = [s, s, 1]

    def linked(a: int, b: int) -> float:
        total, lowest, scored = links[a][b]
        size = len(members[a]) * len(members[b])
        if linkage == "complete" or (linkage == "guarded" and (strict[a] or strict[b])):
            return lowest if scored == size else min(lowest, 0.0)
        return total / size

    for (i, j), s in sorted(sims.items(), key=lambda kv: (-kv[1], kv[0])):
        if s < threshold:
            break
        a, b = owner[i], owner[j]
        if a == b or linked(a, b) < threshold:
            continue
        if len(links[a]) < len(links[b]):
            a, b = b, a
        for k, (total, lowest, scored) in links.pop(b).items():
            del links[k][b]
            if k == a:
                continue
            mine = links[a].setdefault(k, [0.0, lowest, 0])
            mine[0] += total
            mine[1] = min(mine[1], lowest)
            mine[2] += scored
            links[k][a] = mine
        members[a] += members.pop(b)
        strict[a] = strict[a] or strict.pop(b)
        for k in members[a]:
            owner[k] = a
    groups = [Group([demands[i] for i in sorted(m)]) for m in members.values() if len(m) > 1]
    groups = [g for g in groups if len(g.enterprises) > 1]
    return sorted(groups, key=lambda g: -len(g.demands))


def group(demands: Sequence[Demand], threshold: float = THRESHOLD,
          window: int = WINDOW_DAYS, weights: Weights = WEIGHTS) -> list[Group]:
    """The common problems among ``demands``: groups of two or more enterprises, the
    largest first."""
    scores = score(demands, window, weights)
    return cluster(demands, scores.pairs, threshold, weights.linkage, scores.consultations)


def pairs_of(groups: Iterable[Group]) -> set[tuple[str, str]]:
    """The pairs of demand ids the grouping puts together."""
    out = set()
    for g in groups:
        ids = sorted(d.id for d in g.demands)
        out |= {(a, b) for n, a in enumerate(ids) for b in ids[n + 1:]}
    return out
