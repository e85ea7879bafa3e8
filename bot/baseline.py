"""The plain baseline that the project's pipeline must beat (trained in the same run).

jieba words (uni- and bigrams) + characters (1–3-grams), TF-IDF, linear SVM —
on the raw text: no normalisation, no user dictionary, no calibration tricks.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from bot.examples import DEMAND_INTENTS, Example, Prediction


class Baseline:
    def __init__(self, c: float = 1.0, seed: int = 42) -> None:
        import jieba

        self._jieba = jieba.Tokenizer()  # jieba's own dictionary only, never the project's
        self._c, self._seed = c, seed
        self._models: dict[str, Pipeline] = {}

    def _words(self, text: str) -> list[str]:
        return [w for w in self._jieba.lcut(text) if w.strip()]

    def _pipeline(self) -> Pipeline:
        features = FeatureUnion([
            ("words", TfidfVectorizer(tokenizer=self._words, token_pattern=None,
                                      ngram_range=(1, 2), sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True)),
        ])
        svm = LinearSVC(C=self._c, class_weight="balanced", random_state=self._seed)
        return Pipeline([("features", features), ("svm", svm)])

    def fit(self, examples: Sequence[Example]) -> Baseline:
        demand = [e for e in examples if e.subtopic]
        for name, rows, labels in (
            ("intent", examples, [e.intent for e in examples]),
            ("domain", demand, [e.domain for e in demand]),
            ("subtopic", demand, [e.subtopic for e in demand]),
        ):
            self._models[name] = self._pipeline().fit([e.text for e in rows], np.array(labels))
        return self

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        texts = list(texts)
        intents = self._models["intent"].predict(texts)
        domains = self._models["domain"].predict(texts)
        subtopics = self._models["subtopic"].predict(texts)
        return [Prediction(str(i), str(d), str(s)) if i in DEMAND_INTENTS
                else Prediction(str(i), None, None)
                for i, d, s in zip(intents, domains, subtopics, strict=True)]
