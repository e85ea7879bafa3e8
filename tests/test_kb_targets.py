"""The knowledge base's answers held to their measured level (issue 18).

Scored by the code of ``govbot kb eval QUESTIONS --kb PATH --json`` (``bot.cli.cmd_kb_eval``,
which the README's "Knowledge base" figures and reports/kb_eval*.md come from) on the
sample knowledge base ingested as ``govbot run`` ingests it. The issue's targets —
right answers ≥ 0.80, wrong answers ≤ 0.08, correct refusals ≥ 0.85, ranking hit@3
≥ 0.93 — are not met yet (README, docs/knowledge_base.md); until they are, each figure
is held a little under (wrong answers: a little over) what it measured on 2026-12-06, so
that a change that loses quality fails. Raise a floor when a change raises its figure.
"""

import argparse
import json

import pytest

from bot.cli import cmd_kb_eval
from bot.kb.index import KnowledgeBase

#: per question set: (measured on 2026-12-06, floor) — for wrong answers a ceiling
#: (the scope model learns from the NLU data: new intents move these a little)
LEVELS = {
    # held-out 2026-12 (245 questions, 185 answerable): written apart, never used to choose
    # or fit anything — the README's headline row
    "questions_holdout_2026": {
        "answer_accuracy": (0.551, 0.53),  # target ≥ 0.80
        "wrong_answer_rate": (0.189, 0.20),  # target ≤ 0.08
        "refusal_rate": (0.783, 0.75),  # target ≥ 0.85
        "ranking_hit_at_1": (0.919, 0.90),
        "ranking_hit_at_3": (0.995, 0.98),  # target ≥ 0.93 (met)
    },
    # held-out 2026-11 (120 questions, 86 answerable)
    "questions_holdout": {
        "answer_accuracy": (0.465, 0.44),  # target ≥ 0.80
        "wrong_answer_rate": (0.186, 0.21),  # target ≤ 0.08
        "refusal_rate": (0.765, 0.73),  # target ≥ 0.85
        "ranking_hit_at_1": (0.767, 0.74),
        "ranking_hit_at_3": (0.930, 0.91),  # target ≥ 0.93
    },
    # the tuning set (760 questions, 645 answerable): every weight and threshold is chosen
    # on it, so its figures flatter; no targets of its own
    "questions": {
        "answer_accuracy": (0.543, 0.53),
        "wrong_answer_rate": (0.140, 0.15),
        "refusal_rate": (0.713, 0.69),
        "ranking_hit_at_1": (0.851, 0.84),
        "ranking_hit_at_3": (0.957, 0.945),
    },
}


@pytest.fixture(scope="module")
def kb_dir(settings, tmp_path_factory):
    """The sample knowledge base (data/kb/policies with its standard questions), ingested
    as bot/runner.py ingests it for `govbot run`."""
    folder = tmp_path_factory.mktemp("kb")
    kb = KnowledgeBase(folder, create=True)
    try:
        report = kb.ingest(settings.kb_source_dir)
    finally:
        kb.close()
    assert not report.errors and len(report.added) >= 100
    return folder


def kb_eval(settings, kb_dir, name, capsys) -> dict:
    """``govbot kb eval data/kb/NAME.yml --kb KB_DIR --json``, run in this process."""
    args = argparse.Namespace(questions=str(settings.data_dir / "kb" / f"{name}.yml"),
                              kb=str(kb_dir), json=True, report=False, min_confidence=None)
    capsys.readouterr()
    assert cmd_kb_eval(args, settings) == 0
    return json.loads(capsys.readouterr().out.strip().splitlines()[-1])


@pytest.mark.parametrize("name", list(LEVELS))
def test_knowledge_base_answers_keep_their_level(settings, kb_dir, capsys, name):
    result = kb_eval(settings, kb_dir, name, capsys)
    assert result["answerable"] >= 80 and result["unanswerable"] >= 30
    for key, (then, floor) in LEVELS[name].items():
        now = result[key]
        if key == "wrong_answer_rate":
            assert now <= floor, f"{key} rose to {now} (measured {then}, allowed {floor})"
        else:
            assert now >= floor, f"{key} fell to {now} (measured {then}, floor {floor})"
