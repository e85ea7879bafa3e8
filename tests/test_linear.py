"""The hand-made TF-IDF weighting and calibrated-SVM probabilities give exactly what
scikit-learn gives (bot.nlu.linear.weigh and CalibratedSvm skip only its per-call
validation and per-class loop)."""

import numpy as np
import pytest
import scipy.sparse as sp

from bot.nlu import linear


@pytest.mark.parametrize("classes", [3, 11])
@pytest.mark.parametrize("model", ["svm", "logreg", "svm+logreg"])
def test_weigh_and_predict_proba_match_the_library(model, classes):
    rng = np.random.default_rng(7)
    X = sp.random(90, 400, density=0.05, format="csr", random_state=7,
                  data_rvs=lambda n: rng.integers(1, 4, n).astype(float))
    y = np.array([f"intent_{i % classes}" for i in range(90)])
    est = linear.make_estimator(model).fit(X, y)
    fast = linear.CalibratedSvm.of(est.named_steps["clf"])
    assert (fast is not None) == (model == "svm")  # the SVM takes the hand-made path
    new = sp.random(12, 400, density=0.05, format="csr", random_state=8,
                    data_rvs=lambda n: rng.integers(1, 4, n).astype(float))
    counts = new.copy()
    expected = est.named_steps["tfidf"].transform(new)
    assert abs(linear.weigh(est, new) - expected).max() < 1e-12
    np.testing.assert_allclose(linear.predict_proba(est, new), est.predict_proba(new),
                               rtol=1e-12, atol=1e-12)
    assert (new != counts).nnz == 0  # the counts themselves are left as they were
    blank = sp.csr_matrix((1, 400))
    np.testing.assert_allclose(linear.predict_proba(est, blank), est.predict_proba(blank))
