"""The scope model's cache (bot.kb.scope): skops, with the vocabulary as one array."""

import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from bot.kb.scope import load_cache, save_cache
from bot.nlu.linear import UnsafeModelError, save

TEXTS = ["过桥资金到期银行不续贷", "研发费用加计扣除比例", "讲个笑话", "今晚吃什么", "高企认定条件",
         "天气怎么样"]


def fitted():
    model = make_pipeline(TfidfVectorizer(analyzer="char", ngram_range=(1, 3), sublinear_tf=True),
                          LogisticRegression())
    return model.fit(TEXTS, [1, 1, 0, 0, 1, 0])


def test_the_cached_model_predicts_what_the_fitted_one_does(tmp_path):
    model = fitted()
    save_cache(tmp_path / "scope.skops", "abc123", model)
    stored = load_cache(tmp_path / "scope.skops")
    assert stored["digest"] == "abc123"
    assert stored["model"].steps[0][1].vocabulary_ == model.steps[0][1].vocabulary_
    questions = ["资金到期怎么办", "笑话", "", "ABC 123"]
    assert (stored["model"].predict_proba(questions) == model.predict_proba(questions)).all()
    assert model.steps[0][1].vocabulary_  # saving left the fitted model whole


class Unexpected:
    pass


def test_a_cache_with_unexpected_types_is_refused(tmp_path):
    save({"digest": "abc123", "terms": [], "model": Unexpected()}, tmp_path / "scope.skops")
    with pytest.raises(UnsafeModelError, match="Unexpected"):
        load_cache(tmp_path / "scope.skops")
