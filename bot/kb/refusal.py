"""The no-answer decision: how likely the best hit answers the question, from evidence.

``KnowledgeBase.evidence`` describes the best hit with the numbers named in
``FEATURES``; a small ensemble of depth-2 regression trees (gradient boosting)
turns them into a probability. It is fitted by ``bench/kb_tuning.py --save`` on the
training questions (``data/kb/questions_train*.yml``, never on the question sets
it is scored on) and stored as plain JSON in ``bot/resources/kb_refusal.json``;
here it is evaluated in plain Python — no scikit-learn at run time, a few
microseconds per question.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

MODEL_FILE = Path(__file__).resolve().parent.parent / "resources" / "kb_refusal.json"

class Evidence(NamedTuple):
    """The evidence about the best hit, each a number in [0, 1], by name
    (``KnowledgeBase.evidence`` fills it field by field; the model reads it in this order)."""

    passage_word_coverage: float    # KB-IDF-weighted share of question words in the best passage
    known_word_share: float         # share of question words the knowledge base uses at all
    passage_bigram_coverage: float  # share of question bigrams in the best passage
    document_word_coverage: float   # general-IDF-weighted share of question words in the document
    score_margin: float             # best score minus the second document's
    scope: float                    # P(an enterprise-service question) — bot.kb.scope
    nouns_lacking: float            # question nouns the document lacks (3 or more → 1)
    terms_lacking: float            # glossary terms the document lacks (2 or more → 1)
    terms_lacking_passage: float    # … the best passage lacks
    terms_lacking_focus: float      # … the title and headings lack
    terms_mentioned_once: float     # … the document mentions at most once (in passing)
    nouns_lacking_passage: float    # question nouns the best passage lacks (3 or more → 1)
    passage_word_share: float       # plain share of question words in the best passage
    terms_lacking_second: float     # glossary terms the second document lacks


#: the names of the evidence, in the model's order (a stored model names the ones it was
#: fitted on, and is refused when they differ)
FEATURES: tuple[str, ...] = Evidence._fields


@dataclass(frozen=True)
class Tree:
    left: tuple[int, ...]  # child node ids; -1 at a leaf
    right: tuple[int, ...]
    feature: tuple[int, ...]
    threshold: tuple[float, ...]
    value: tuple[float, ...]


@dataclass(frozen=True)
class RefusalModel:
    features: tuple[str, ...]
    init: float
    learning_rate: float
    trees: tuple[Tree, ...]

    def probability(self, x: Sequence[float]) -> float:
        """P(the best hit answers the question)."""
        if len(x) != len(self.features):
            raise ValueError(f"expected {len(self.features)} evidence features, got {len(x)}")
        total = 0.0
        for t in self.trees:  # inlined: about 750 trees per question
            node = 0
            left = t.left
            while left[node] != -1:
                node = left[node] if x[t.feature[node]] <= t.threshold[node] else t.right[node]
            total += t.value[node]
        z = self.init + self.learning_rate * total
        return 1 / (1 + math.exp(-max(-50.0, min(50.0, z))))

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> RefusalModel:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if tuple(raw["features"]) != FEATURES:
            raise ValueError(f"{path} was fitted on other evidence features than this "
                             f"version computes; refit it with bench/kb_tuning.py --save")
        return cls(tuple(raw["features"]), float(raw["init"]), float(raw["learning_rate"]),
                   tuple(Tree(*(tuple(t[k]) for k in ("left", "right", "feature",
                                                       "threshold", "value")))
                         for t in raw["trees"]))


def export(models: Sequence[Any], features: Sequence[str] = FEATURES) -> dict[str, Any]:
    """Fitted binary ``sklearn.ensemble.GradientBoostingClassifier`` s as plain JSON data:
    one model whose log-odds is the average of theirs."""
    import numpy as np

    zero = np.zeros((1, len(features)))
    trees, inits = [], []
    for model in models:
        for estimator in model.estimators_[:, 0]:
            t = estimator.tree_
            trees.append({"left": t.children_left.tolist(),
                          "right": t.children_right.tolist(),
                          "feature": t.feature.tolist(), "threshold": t.threshold.tolist(),
                          "value": t.value[:, 0, 0].tolist()})
        inits.append(float(model.decision_function(zero)[0] - model.learning_rate * sum(
            e.predict(zero)[0] for e in model.estimators_[:, 0])))
    rates = {model.learning_rate for model in models}
    if len(rates) != 1:
        raise ValueError("the models must share one learning rate")
    return {"features": list(features), "init": sum(inits) / len(inits),
            "learning_rate": rates.pop() / len(models), "trees": trees}
