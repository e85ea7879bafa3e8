"""Knowledge-base retrieval tuning (not a test): does each part help, and the no-answer model.

    uv run python bench/kb_tuning.py [--save]

1. Ingests data/kb/policies into a scratch knowledge base.
2. Ranking: hit@1 / hit@3 / MRR (no refusals) on data/kb/questions.yml for word BM25
   alone, bigram BM25 alone and blends — does each part help?
3. The no-answer model (bot.kb.refusal): the evidence features of the best hit for every
   training question (data/kb/questions_train*.yml), gradient-boosted ensembles of
   depth-2 trees (classes balanced), 5-fold cross-validated false / correct refusal rates
   per threshold, and the same rates on the question sets it never sees
   (data/kb/questions.yml, data/kb/questions_holdout.yml). ``--save`` writes the model
   fitted on all training questions to bot/resources/kb_refusal.json.
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
from sklearn.ensemble import GradientBoostingClassifier  # noqa: E402
from sklearn.model_selection import StratifiedKFold  # noqa: E402
from sklearn.utils.class_weight import compute_sample_weight  # noqa: E402

from bot.kb.evaluate import load_questions  # noqa: E402
from bot.kb.index import KnowledgeBase  # noqa: E402
from bot.kb.ranking import Tuning  # noqa: E402
from bot.kb.refusal import FEATURES, MODEL_FILE, RefusalModel, export  # noqa: E402
from bot.kb.scope import scope_model  # noqa: E402
from bot.settings import load_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
KB_DATA = ROOT / "data" / "kb"
THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)


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


def evidence(kb: KnowledgeBase, questions) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features of the best hit — computed by the run-time path (``search_evidence``: the
    same question preparation and passage as ``search``) — answerable (1) or not (0), and
    whether the top 3 hold an expected document, per question. A question no passage
    matches at all is left out: the search refuses it before the model is asked."""
    X, y, top3 = [], [], []
    for q in questions:
        features = kb.search_evidence(q.q)
        if features is None:
            continue
        hits = kb.search(q.q, top_k=5, refuse=False)
        X.append(features)
        y.append(1 if q.expect else 0)
        top3.append(any(h["doc_id"] in q.expect for h in hits[:3]))
    return np.array(X), np.array(y), np.array(top3)


def fit(X: np.ndarray, y: np.ndarray) -> list[GradientBoostingClassifier]:
    """Five gradient-boosted ensembles of depth-2 trees (classes balanced, rows
    subsampled, different seeds); their averaged log-odds is the model — steadier
    than any one of them."""
    weights = compute_sample_weight("balanced", y)
    return [GradientBoostingClassifier(n_estimators=150, max_depth=2, learning_rate=0.05,
                                       subsample=0.8, random_state=seed)
            .fit(X, y, sample_weight=weights) for seed in range(5)]


def predict(models: list[GradientBoostingClassifier], X: np.ndarray) -> np.ndarray:
    z = np.mean([m.decision_function(X) for m in models], axis=0)
    return 1 / (1 + np.exp(-z))


def rates(p: np.ndarray, y: np.ndarray, top3: np.ndarray) -> list[dict]:
    rows = []
    for th in THRESHOLDS:
        answered = p >= th
        rows.append({"min_confidence": th,
                     "false_refusal": round(float(np.mean(~answered[y == 1])), 3),
                     "correct_refusal": round(float(np.mean(~answered[y == 0])), 3),
                     "hit_at_3": round(float(np.mean(answered[y == 1] & top3[y == 1])), 3)})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--save", action="store_true",
                    help=f"write the fitted no-answer model to {MODEL_FILE.relative_to(ROOT)}")
    args = ap.parse_args()
    train_files = sorted(KB_DATA.glob("questions_train*.yml"))
    train = [q for f in train_files for q in load_questions(f)]
    out: dict = {"training_files": [f.name for f in train_files], "training_questions": len(train)}
    with tempfile.TemporaryDirectory() as tmp:
        kb = KnowledgeBase(Path(tmp) / "kb", create=True,
                           scope=scope_model(load_settings({"GOVBOT_HOME": str(ROOT)})),
                           refusal=RefusalModel(FEATURES, 0.0, 0.0, ()))  # answers everything
        kb.ingest(KB_DATA / "policies")
        out["ranking"] = {}
        repo = load_questions(KB_DATA / "questions.yml")
        for weight in (1.0, 0.0, 0.2, 0.5, 0.7):
            kb.tuning = replace(Tuning(), word_weight=weight)
            name = {1.0: "words only", 0.0: "bigrams only"}.get(weight, f"blend {weight}")
            out["ranking"][name] = ranking(kb, repo)
            print(f"{name:14s}", out["ranking"][name], flush=True)
        kb.tuning = Tuning()
        X, y, top3 = evidence(kb, train)
        scored = {name: evidence(kb, load_questions(KB_DATA / name))
                  for name in ("questions.yml", "questions_holdout.yml")}
        kb.close()
    p = np.zeros(len(y))
    for fold, rest in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):
        p[rest] = predict(fit(X[fold], y[fold]), X[rest])
    out["refusal_cv"] = rates(p, y, top3)
    print("cross-validated on the training questions")
    for row in out["refusal_cv"]:
        print(" ", row)
    fitted = fit(X, y)
    out["refusal_unseen"] = {}
    for name, (Xs, ys, t3) in scored.items():
        out["refusal_unseen"][name] = rates(predict(fitted, Xs), ys, t3)
        print(f"on {name} (never used for fitting)")
        for row in out["refusal_unseen"][name]:
            print(" ", row)
    if args.save:
        MODEL_FILE.write_text(json.dumps(export(fitted), separators=(",", ":")) + "\n")
        print("saved", MODEL_FILE)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kb_tuning.json").write_text(json.dumps(out, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
