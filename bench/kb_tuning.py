"""Knowledge-base retrieval tuning (not a test): does each part help, and the no-answer model.

    uv run python bench/kb_tuning.py [--questions data/kb/questions.yml]

1. Ingests data/kb/policies into a scratch knowledge base.
2. Ranking: hit@1 / hit@3 / MRR (no refusals) for word BM25 alone, bigram BM25 alone
   and blends — does each part help?
3. The no-answer decision: the evidence features of the best hit for every question,
   a logistic regression (class-balanced), 5-fold cross-validated false / correct
   refusal rates per threshold, and the coefficients fitted on all questions (copied
   into bot.kb.index.Tuning).
Prints the figures and writes bench/results/kb_tuning.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_predict  # noqa: E402

from bot.kb import tokens  # noqa: E402
from bot.kb.evaluate import load_questions  # noqa: E402
from bot.kb.index import KnowledgeBase, Tuning  # noqa: E402
from bot.kb.scope import scope_model  # noqa: E402
from bot.settings import load_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def ranking(kb: KnowledgeBase, questions) -> dict:
    h1 = h3 = rr = 0.0
    answerable = [q for q in questions if q.expect]
    for q in answerable:
        ids = [h["doc_id"] for h in kb.search(q.q, top_k=5, refuse=False)]
        rank = next((i for i, d in enumerate(ids, start=1) if d in q.expect), None)
        h1 += rank == 1
        h3 += rank is not None and rank <= 3
        rr += 1 / rank if rank else 0
    n = len(answerable)
    return {"hit_at_1": round(h1 / n, 3), "hit_at_3": round(h3 / n, 3), "mrr": round(rr / n, 3)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--questions", default=str(ROOT / "data" / "kb" / "questions.yml"))
    args = ap.parse_args()
    questions = load_questions(Path(args.questions))
    out: dict = {"questions": len(questions)}
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(Path(tmp) / "kb", create=True,
                           scope=scope_model(load_settings({"GOVBOT_HOME": str(ROOT)})))
        kb.ingest(ROOT / "data" / "kb" / "policies")
        out["ranking"] = {}
        for weight in (1.0, 0.0, 0.2, 0.5, 0.7):
            kb.tuning = replace(Tuning(), word_weight=weight)
            name = {1.0: "words only", 0.0: "bigrams only"}.get(weight, f"blend {weight}")
            out["ranking"][name] = ranking(kb, questions)
            print(f"{name:14s}", out["ranking"][name], flush=True)
        kb.tuning = Tuning()
        X, y = [], []
        for q in questions:
            hits = kb.search(q.q, top_k=5, refuse=False)
            X.append(kb.evidence(tokens.Text(q.q), hits,
                                 hits[0]["passage_id"] if hits else None))
            y.append(1 if q.expect else 0)
        kb.close()
    X, y = np.array(X), np.array(y)
    model = LogisticRegression(class_weight="balanced", max_iter=1000)
    p = cross_val_predict(model, X, y, cv=StratifiedKFold(5, shuffle=True, random_state=0),
                          method="predict_proba")[:, 1]
    out["refusal_cv"] = []
    for th in (0.2, 0.25, 0.3, 0.35, 0.4, 0.5):
        row = {"min_confidence": th,
               "false_refusal": round(float(np.mean(p[y == 1] < th)), 3),
               "correct_refusal": round(float(np.mean(p[y == 0] < th)), 3)}
        out["refusal_cv"].append(row)
        print(row, flush=True)
    model.fit(X, y)
    out["refusal_weights"] = [round(float(w), 3) for w in model.coef_[0]]
    out["refusal_bias"] = round(float(model.intercept_[0]), 3)
    print("weights", out["refusal_weights"], "bias", out["refusal_bias"])
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kb_tuning.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
