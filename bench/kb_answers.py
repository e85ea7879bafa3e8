"""Choosing the shown passage and answer: a grid over the answer knobs of
``bot.kb.ranking.Tuning``, scored on the tuning questions only by the share of answerable
questions whose best document's answer states the facts — before any decision not to
answer and without standard questions, so the answer text alone is measured.

    uv run python bench/kb_answers.py [--kb var/kb] [--questions data/kb/questions.yml]

The best setting is printed with the same figure on the held-out sets, which are never
used to choose. Writes bench/results/kb_answers.json.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.kb.evaluate import load_questions, states  # noqa: E402
from bot.kb.index import KnowledgeBase  # noqa: E402
from bot.kb.ranking import Tuning  # noqa: E402
from bot.kb.scope import scope_model  # noqa: E402
from bot.settings import load_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
GRID = {"section_weight": (0.0, 0.15, 0.3),
        "found_bonus": (0.0, 0.15, 0.3, 0.6),
        "sentence_ask_bonus": (0.0, 0.1, 0.2),
        "answer_chars": (220, 300)}
HELD_OUT = ("questions_holdout.yml", "questions_holdout_2026.yml")


def answered(kb: KnowledgeBase, questions) -> float:
    """Share of answerable questions whose top answer is right, nothing refused."""
    answerable = [q for q in questions if q.expect]
    right = 0
    for q in answerable:
        hits = kb.search(q.q, top_k=3, refuse=False)
        right += bool(hits) and hits[0]["doc_id"] in q.expect and states(hits[0]["answer"],
                                                                           q.facts)
    return round(right / len(answerable), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", default=str(ROOT / "var" / "kb"))
    parser.add_argument("--questions", default=str(ROOT / "data" / "kb" / "questions.yml"))
    args = parser.parse_args()
    scope = scope_model(load_settings())
    tuning_set = load_questions(Path(args.questions))
    kb = KnowledgeBase(Path(args.kb), scope=scope, check=False)
    kb.use_faq = False
    rows = []
    for values in itertools.product(*GRID.values()):
        setting = dict(zip(GRID, values, strict=True))
        kb.tuning = replace(Tuning(), **setting)
        rows.append({**setting, "right_answers": answered(kb, tuning_set)})
        print(json.dumps(rows[-1]), flush=True)
    best = max(rows, key=lambda r: (r["right_answers"], -r["answer_chars"]))
    setting = {k: best[k] for k in GRID}
    kb.tuning = replace(Tuning(), **setting)
    held = {}
    for name in HELD_OUT:
        path = ROOT / "data" / "kb" / name
        if path.exists():
            held[name] = {"right_answers": answered(kb, load_questions(path))}
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
