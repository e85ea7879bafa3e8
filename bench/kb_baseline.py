"""The policy answer as it was before answer-level work (commit 449a42f), on today's
knowledge base and question sets — the "before" column of docs/knowledge_base.md.

    uv run python bench/kb_baseline.py

Before: the passage the search ranked first, shown from its top, trimmed to 300
characters; the no-answer model of that commit (read from git history) at 0.3; no
standard questions, no answer check. Writes bench/results/kb_baseline.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.kb.evaluate import load_questions, states  # noqa: E402
from bot.kb.index import KnowledgeBase  # noqa: E402
from bot.kb.refusal import RefusalModel  # noqa: E402
from bot.kb.scope import scope_model  # noqa: E402
from bot.settings import load_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
BEFORE = "449a42f"
SETS = ("questions.yml", "questions_holdout.yml", "questions_holdout_2026.yml")


def trimmed(text: str, limit: int = 300) -> str:
    """The answer of that commit (actions/policy.py: trimmed)."""
    flat = text.replace("\n", "")
    if len(flat) <= limit:
        return flat
    cut = max(flat.rfind(p, 0, limit) for p in "。；")
    return flat[:cut + 1] if cut >= limit // 2 else flat[:limit] + "……"


def main() -> int:
    old = subprocess.run(["git", "show", f"{BEFORE}:bot/resources/kb_refusal.json"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        model = Path(tmp) / "refusal.json"
        model.write_text(old, encoding="utf-8")
        kb = KnowledgeBase(Path(tmp) / "kb", create=True, scope=scope_model(load_settings()),
                           refusal=RefusalModel.load(model), check=False)
        kb.ingest(ROOT / "data" / "kb" / "policies")
        kb.use_faq = False
        kb._answer = lambda doc_id, words, ask, found: (found, "")  # the found passage
        for name in SETS:
            questions = load_questions(ROOT / "data" / "kb" / name)
            answerable = [q for q in questions if q.expect]
            right = wrong = refused = 0
            for q in questions:
                hits = kb.search(q.q, top_k=3)
                if not q.expect:
                    refused += not hits
                    continue
                if hits:
                    ok = hits[0]["doc_id"] in q.expect and states(trimmed(hits[0]["passage"]),
                                                                  q.facts)
                    right += ok
                    wrong += not ok
            n_u = len(questions) - len(answerable)
            out[name] = {"answer_accuracy": round(right / len(answerable), 3),
                         "wrong_answer_rate": round(wrong / len(answerable), 3),
                         "refusal_rate": round(refused / n_u, 3) if n_u else None,
                         "n": len(questions)}
            print(name, json.dumps(out[name]))
        kb.close()
    (ROOT / "bench" / "results" / "kb_baseline.json").write_text(
        json.dumps({"before": BEFORE, "sets": out}, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
