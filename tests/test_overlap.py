"""No evaluation text is a tuning text once spelling is set aside (issue 18).

Texts are compared as every overlap check compares them (``bot.text.comparison_key``):
normalised by the project's normaliser (Traditional → Simplified, full-width →
half-width, whitespace folded), lower case, without punctuation, symbols or spaces. The
NLU held-out sets are checked against the training data in tests/test_training_data.py;
this file checks the comparison itself and the knowledge base's question sets.

The knowledge base's question sets (docs/knowledge_base.md):

* ``questions.yml`` — the tuning set: every weight and threshold of the search and the
  answer check is chosen, and the answer check fitted, on it;
* ``questions_train*.yml`` — the no-answer model's training questions
  (bench/kb_tuning.py), which also reports that model on ``questions.yml`` as unseen;
* ``questions_holdout*.yml`` — the held-out sets, never used to choose or fit anything.
"""

from pathlib import Path

import pytest

from bot.kb.evaluate import load_questions
from bot.text import comparison_key

KB_DATA = Path(__file__).resolve().parent.parent / "data" / "kb"


@pytest.mark.parametrize("a, b", [
    ("營業執照咋辦？", "营业执照咋办"),  # Traditional, a full-width question mark
    ("ＡＢＣ公司，Hello！", "abc公司 hello"),  # full-width letters, case, punctuation
    ("  你好\t在吗～～", "你好在吗"),  # whitespace, symbols
    ("“专精特新”怎么认定?", "专精特新怎么认定"),  # quotation marks
])
def test_texts_that_differ_only_in_spelling_compare_equal(a, b):
    assert comparison_key(a) == comparison_key(b)


def test_texts_that_differ_in_words_do_not():
    assert comparison_key("公积金单位交多少") != comparison_key("社保单位交多少")
    assert comparison_key("增值税3%") != comparison_key("增值税1%")


def _sets(pattern: str) -> dict[str, list[str]]:
    files = sorted(KB_DATA.glob(pattern))
    assert files, pattern
    return {f.name: [q.q for q in load_questions(f)] for f in files}


def _copies(evaluation: dict[str, list[str]], tuning: dict[str, list[str]]) -> list[str]:
    """Every evaluation question that some tuning question equals, and where."""
    seen = {comparison_key(q): (name, q) for name, qs in tuning.items() for q in qs}
    return [f"{name}: {q!r} = {seen[comparison_key(q)][0]}: {seen[comparison_key(q)][1]!r}"
            for name, qs in evaluation.items() for q in qs if comparison_key(q) in seen]


def test_no_held_out_question_is_a_tuning_question():
    held_out = _sets("questions_holdout*.yml")
    tuning = {**_sets("questions.yml"), **_sets("questions_train*.yml")}
    assert len(held_out) >= 2 and len(tuning) >= 5
    assert _copies(held_out, tuning) == []


def test_the_no_answer_models_training_questions_are_not_the_sets_it_is_scored_on():
    """bench/kb_tuning.py reports the no-answer model on questions.yml as never seen."""
    assert _copies(_sets("questions.yml"), _sets("questions_train*.yml")) == []
