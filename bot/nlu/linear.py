"""Linear text classifiers over sparse n-gram features, with calibrated probabilities.

Shared by the Rasa components in ``bot.nlu.classifiers`` and by the baseline in
``bot.evaluation``. Two estimators are offered (``model`` in ``config.yml``):

* ``svm`` — linear SVM; probabilities by Platt scaling fitted on 3-fold
  cross-validated decision values (one final SVM, so the model stays small);
* ``logreg`` — multinomial logistic regression;
* ``svm+logreg`` — both, their probabilities averaged (a two-model ensemble).

Both use TF-IDF weighting (sublinear term frequency) of the featurizers' counts.
"""

from __future__ import annotations

from pathlib import Path
from weakref import WeakKeyDictionary

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import VotingClassifier
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

MODELS = ("svm", "logreg", "svm+logreg")


def make_estimator(model: str = "svm", c: float = 1.0, seed: int = 42,
                   class_weight: str | None = "balanced") -> Pipeline:
    """``class_weight="balanced"`` weighs each class by the inverse of its size; ``None``
    weighs every example alike."""
    if model == "svm":
        clf = CalibratedClassifierCV(
            LinearSVC(C=c, class_weight=class_weight, random_state=seed),
            method="sigmoid", cv=3, ensemble=False,
        )
    elif model == "logreg":
        clf = LogisticRegression(C=c, class_weight=class_weight, max_iter=3000,
                                 random_state=seed)
    elif model == "svm+logreg":  # two models, their probabilities averaged
        clf = VotingClassifier([
            ("svm", make_estimator("svm", c, seed, class_weight).named_steps["clf"]),
            ("logreg", make_estimator("logreg", 10 * c, seed, class_weight).named_steps["clf"]),
        ], voting="soft")
    else:
        raise ValueError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    return Pipeline([("tfidf", TfidfTransformer(sublinear_tf=True)), ("clf", clf)])


def save(estimator: Pipeline, path: Path) -> None:
    import skops.io as sio

    sio.dump(estimator, path)


class UnsafeModelError(RuntimeError):
    """A model file holds types other than scikit-learn, NumPy and SciPy objects."""


_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.sparse.")


def load(path: Path) -> Pipeline:
    """Load a model saved by ``save``; only scikit-learn, NumPy and SciPy types are trusted
    (skops never unpickles arbitrary code)."""
    import skops.io as sio

    untrusted = sio.get_untrusted_types(file=path)
    foreign = [t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES)]
    if foreign:
        raise UnsafeModelError(f"{path}: refusing to load unexpected types {foreign}")
    return sio.load(path, trusted=untrusted)


def stack_rows(rows: list[sp.spmatrix | None], width: int) -> sp.csr_matrix:
    """Stack 1×width sparse rows; a missing row (empty message) becomes zeros."""
    blank = sp.csr_matrix((1, width), dtype=np.float64)
    return sp.vstack([blank if r is None else sp.csr_matrix(r) for r in rows]).tocsr()


def weigh(estimator: Pipeline, X: sp.spmatrix) -> sp.csr_matrix:
    """The pipeline's TF-IDF weighting of the counts X — what its ``tfidf`` step's
    ``transform`` returns, without scikit-learn's validation on every call (which rebuilds
    the idf vector each time: about 0.4 ms a message at this vocabulary)."""
    tfidf = estimator.named_steps["tfidf"]
    X = sp.csr_matrix(X, dtype=np.float64, copy=True)
    if tfidf.sublinear_tf:
        np.log(X.data, X.data)
        X.data += 1
    if tfidf.use_idf:
        X = X @ tfidf._idf_diag
    return normalize(X, norm=tfidf.norm, copy=False) if tfidf.norm else X


def predict_proba(estimator: Pipeline, X: sp.spmatrix,
                  weighted: sp.csr_matrix | None = None) -> np.ndarray:
    """``estimator.predict_proba(X)``; ``weighted``: X already weighed by ``weigh`` with an
    estimator fitted on the same rows (the domain and sub-topic models share it)."""
    X = weigh(estimator, X) if weighted is None else weighted
    clf = estimator.named_steps["clf"]
    if clf not in _calibrated:
        _calibrated[clf] = CalibratedSvm.of(clf)
    fast = _calibrated[clf]
    return fast.predict_proba(X) if fast else clf.predict_proba(X)


class CalibratedSvm:
    """``CalibratedClassifierCV(LinearSVC, method="sigmoid").predict_proba`` as a few
    array operations: scikit-learn calls one sigmoid per class and validates its input
    each time (about 1 ms a message with 50 intents). Built from a fitted classifier;
    ``of`` returns None for any other kind, which keeps scikit-learn's own method."""

    def __init__(self, parts: list[tuple[np.ndarray, ...]]) -> None:
        #: per calibrated classifier: weights (features × classes), intercepts, the
        #: column of each SVM class, the calibrators' slopes and offsets, the class count
        self.parts = parts

    @classmethod
    def of(cls, clf: object) -> CalibratedSvm | None:
        from sklearn.preprocessing import LabelEncoder

        if not isinstance(clf, CalibratedClassifierCV) or clf.method != "sigmoid":
            return None
        parts = []
        for calibrated in clf.calibrated_classifiers_:
            svm = getattr(calibrated, "estimator", None) or calibrated.base_estimator
            n_classes = len(calibrated.classes)
            if not isinstance(svm, LinearSVC) or n_classes < 3:
                return None
            columns = LabelEncoder().fit(calibrated.classes).transform(svm.classes_)
            slopes = np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64)
            offsets = np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64)
            parts.append((np.ascontiguousarray(svm.coef_.T), svm.intercept_, columns, slopes,
                          offsets, n_classes))
        return cls(parts)

    def predict_proba(self, X: sp.spmatrix) -> np.ndarray:
        from scipy.special import expit

        mean = np.zeros((X.shape[0], self.parts[0][-1]))
        for weights, intercepts, columns, slopes, offsets, n_classes in self.parts:
            decision = X @ weights + intercepts
            proba = np.zeros((X.shape[0], n_classes))
            proba[:, columns] = expit(-(slopes * decision + offsets))
            total = proba.sum(axis=1, keepdims=True)
            proba = np.divide(proba, total, out=np.full_like(proba, 1 / n_classes),
                              where=total != 0)
            proba[(1.0 < proba) & (proba <= 1.0 + 1e-5)] = 1.0
            mean += proba
        return mean / len(self.parts)


#: fitted classifier → its fast form (None: none)
_calibrated: WeakKeyDictionary[object, CalibratedSvm | None] = WeakKeyDictionary()
