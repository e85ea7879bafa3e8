"""Is a question about enterprise services at all? One of the no-answer evidences.

A small character n-gram classifier trained on the project's own NLU training data:
the examples of ``report_need`` and ``ask_policy`` are in scope, every other intent
(greetings, chatter, out-of-scope) is not. It is cached next to the model
(``models/kb_scope.skops``: skops, which loads scikit-learn and NumPy types only) and
retrained when the training data changes.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import yaml

from bot.settings import Settings
from bot.text import normalize

logger = logging.getLogger(__name__)

IN_SCOPE = ("report_need", "ask_policy")
CACHE_NAME = "kb_scope.skops"  # in the models folder


def _examples(files: list[Path]) -> tuple[list[str], list[int]]:
    texts, labels = [], []
    for path in files:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in raw.get("nlu") or []:
            if "intent" not in block or not isinstance(block.get("examples"), str):
                continue
            label = int(block["intent"] in IN_SCOPE)
            for line in block["examples"].splitlines():
                line = line.strip()
                if line.startswith("- "):
                    texts.append(normalize(line[2:]).text)
                    labels.append(label)
    return texts, labels


def scope_model(settings: Settings) -> Callable[[str], float]:
    """P(in scope | text), trained on the training data (cached by its fingerprint)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from bot.nlu.linear import UnsafeModelError

    files = [p for p in settings.training_files() if "nlu" in p.parts]
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in files)).hexdigest()[:16]
    cache = settings.models_dir / CACHE_NAME
    model = None
    if cache.exists():
        try:
            stored = load_cache(cache)
            model = stored["model"] if stored.get("digest") == digest else None
        except UnsafeModelError as err:  # never loaded: rebuilt below
            logger.warning("Scope model rebuilt: %s", err)
        except Exception:  # noqa: BLE001 - any unreadable cache is simply rebuilt
            model = None
    if model is None:
        texts, labels = _examples(files)
        model = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3),
                                              sublinear_tf=True),
                              LogisticRegression(C=3.0, class_weight="balanced",
                                                 max_iter=2000))
        model.fit(texts, labels)
        try:
            settings.models_dir.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_name(f"{cache.name}.{os.getpid()}.tmp")
            save_cache(tmp, digest, model)
            os.replace(tmp, cache)  # processes starting together never read half a file
        except OSError as err:
            logger.warning("Scope model not cached: %s", err)

    return _scorer(model)


def save_cache(path: Path, digest: str, model) -> None:  # noqa: ANN001
    """The fitted pipeline in skops' format. skops writes a dict entry by entry: the
    vectorizer's vocabulary (200,000 n-grams) would take 140 MB and 10 s to load, so it is
    stored as one array of its terms, in index order."""
    from sklearn.pipeline import Pipeline

    from bot.nlu.linear import save

    (name, vectorizer), classifier = model.steps
    bare = copy.copy(vectorizer)
    del bare.vocabulary_
    save({"digest": digest, "terms": vectorizer.get_feature_names_out().astype(str),
          "model": Pipeline([(name, bare), classifier])}, path)


def load_cache(path: Path) -> dict:
    """What ``save_cache`` wrote, the vocabulary restored; refuses types other than
    scikit-learn's, NumPy's and SciPy's (UnsafeModelError)."""
    from bot.nlu.linear import load

    stored = load(path)
    terms = stored.pop("terms").tolist()
    stored["model"].steps[0][1].vocabulary_ = {term: i for i, term in enumerate(terms)}
    return stored


def _scorer(model) -> Callable[[str], float]:
    """The fitted TF-IDF + logistic-regression pipeline as one small function: the same
    probability as ``model.predict_proba`` without scikit-learn's per-call overhead (about
    2 ms, a tenth of a search)."""
    vectorizer, classifier = model.steps[0][1], model.steps[1][1]
    assert vectorizer.sublinear_tf and vectorizer.norm == "l2" and vectorizer.use_idf
    analyse = vectorizer.build_analyzer()
    coef, idf = classifier.coef_[0], vectorizer.idf_
    weights = {term: (float(idf[j]), float(coef[j]))
               for term, j in vectorizer.vocabulary_.items()}
    bias = float(classifier.intercept_[0])

    def in_scope(text: str) -> float:
        counts = Counter(g for g in analyse(normalize(text).text) if g in weights)
        dot = norm = 0.0
        for gram, n in counts.items():
            idf_j, coef_j = weights[gram]
            x = (1 + math.log(n)) * idf_j
            dot += x * coef_j
            norm += x * x
        z = bias + (dot / math.sqrt(norm) if norm else 0.0)
        return 1 / (1 + math.exp(-z))
    return in_scope
