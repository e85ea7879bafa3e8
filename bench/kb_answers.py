"""Choosing the shown passage and answer: a grid over the answer knobs of
``bot.kb.index.Tuning``, scored by answer accuracy on the tuning questions only.

    uv run python bench/kb_answers.py [--kb var/kb] [--questions data/kb/questions.yml]

Retrieval (which documents, and whether to answer) is left as it is; for every setting
the answers of the same hits are rebuilt. The best setting is printed with its figures on
the held-out sets, which are never used to choose. Writes bench/results/kb_answers.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.kb.evaluate import evaluate, load_questions  # noqa: E402
from bot.kb.index import KnowledgeBase, Tuning  # noqa: E402
from bot.kb.scope import scope_model  # noqa: E402
from bot.settings import load_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
GRID = {"section_weight": (0.0, 0.15, 0.3),
        "found_bonus": (0.0, 0.15, 0.3, 0.6),
        "sentence_ask_bonus": (0.0, 0.1, 0.2),
        "answer_chars": (220, 300)}
HELD_OUT = ("questions_holdout.yml", "questions_holdout_2026.yml")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", default=str(ROOT / "var" / "kb"))
    parser.add_argument("--questions", default=str(ROOT / "data" / "kb" / "questions.yml"))
    args = parser.parse_args()
    scope = scope_model(load_settings())
    tuning_set = load_questions(Path(args.questions))
    kb = KnowledgeBase(Path(args.kb), scope=scope)
    rows = []
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values, strict=True))
        kb.tuning = replace(Tuning(), **setting)
        r = evaluate(kb, tuning_set)
        rows.append({**setting, "answer_accuracy": r["answer_accuracy"],
                     "wrong_answer_rate": r["wrong_answer_rate"]})
        print(json.dumps(rows[-1]))
    best = max(rows, key=lambda r: (r["answer_accuracy"], -r["answer_chars"]))
    setting = {k: best[k] for k in GRID}
    kb.tuning = replace(Tuning(), **setting)
    held = {}
    for name in HELD_OUT:
        path = ROOT / "data" / "kb" / name
        if path.exists():
            r = evaluate(kb, load_questions(path))
            held[name] = {k: r[k] for k in ("answer_accuracy", "wrong_answer_rate", "hit_at_1")}
    kb.close()
    out = {"tuning_questions": args.questions, "best": best, "held_out": held,
           "default": {k: getattr(Tuning(), k) for k in GRID}, "grid": rows}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kb_answers.json").write_text(json.dumps(out, ensure_ascii=False, indent=1),
                                             encoding="utf-8")
    print("best:", json.dumps(best), "held-out:", json.dumps(held, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
