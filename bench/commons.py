"""Common-problem grouping measured on the hand-labelled demands (not a test).

    uv run python bench/commons.py

Reads ``data/commons/demands.yml`` (every demand labelled with the concrete problem it
reports; see its README), groups all of them with ``bot.proactive.commons.group`` at each
threshold, and scores the pairs it puts together against the labels: precision (pairs
grouped that are one problem), recall (one-problem pairs grouped). The threshold is
chosen honestly: the problems are split in two halves by a fixed hash; the threshold
with the best recall at precision ≥ 0.9 on one half is scored on the other, and the other
way round. Writes ``reports/commons_eval.{json,md}``; the target (issue #19) is precision
≥ 0.9 at recall ≥ 0.7.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from bot.proactive.commons import THRESHOLD, Demand, group, pairs_of  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "commons" / "demands.yml"
REPORTS = ROOT / "reports"
THRESHOLDS = [round(0.15 + 0.025 * i, 3) for i in range(15)]
PRECISION_TARGET, RECALL_TARGET = 0.9, 0.7


def load() -> tuple[list[Demand], dict[str, str]]:
    rows = yaml.safe_load(DATA.read_text(encoding="utf-8"))["demands"]
    demands = [Demand(r["id"], r["text"], r["subtopic"], r["region"], int(r["day"]),
                      r.get("enterprise", "")) for r in rows]
    return demands, {r["id"]: r["problem"] for r in rows}


def truth(problem: dict[str, str], ids: set[str]) -> set[tuple[str, str]]:
    chosen = sorted(ids)
    return {(a, b) for n, a in enumerate(chosen) for b in chosen[n + 1:]
            if problem[a] == problem[b]}


def score(found: set[tuple[str, str]], gold: set[tuple[str, str]],
          ids: set[str]) -> dict[str, float]:
    mine = {p for p in found if p[0] in ids and p[1] in ids}
    hit = len(mine & gold)
    return {"precision": round(hit / len(mine), 3) if mine else 1.0,
            "recall": round(hit / len(gold), 3) if gold else 1.0,
            "pairs_found": len(mine), "pairs_true": len(gold)}


def half(problem_id: str) -> int:
    return hashlib.sha256(problem_id.encode()).digest()[0] % 2


def choose(curve: list[dict]) -> dict:
    ok = [r for r in curve if r["precision"] >= PRECISION_TARGET]
    return max(ok, key=lambda r: (r["recall"], -r["threshold"])) if ok else \
        max(curve, key=lambda r: r["precision"])


def main() -> int:
    demands, problem = load()
    started = time.perf_counter()
    found = {t: pairs_of(group(demands, threshold=t)) for t in THRESHOLDS}
    seconds = time.perf_counter() - started
    halves = [{d.id for d in demands if half(problem[d.id]) == h} for h in (0, 1)]
    every = {d.id for d in demands}
    curves = {name: [{"threshold": t, **score(found[t], truth(problem, ids), ids)}
                     for t in THRESHOLDS]
              for name, ids in (("all", every), ("half_a", halves[0]), ("half_b", halves[1]))}
    crossed = []
    for tune, test in (("half_a", "half_b"), ("half_b", "half_a")):
        chosen = choose(curves[tune])
        held = next(r for r in curves[test] if r["threshold"] == chosen["threshold"])
        crossed.append({"tuned_on": tune, "scored_on": test, **held})
    at_default = next(r for r in curves["all"] if r["threshold"] == THRESHOLD)
    result = {"when": time.strftime("%Y-%m-%d %H:%M"), "demands": len(demands),
              "problems": len(set(problem.values())), "pairs_true": at_default["pairs_true"],
              "threshold": THRESHOLD, "at_threshold": at_default, "cross_checked": crossed,
              "curves": curves, "seconds_for_all_thresholds": round(seconds, 1),
              "target": {"precision": PRECISION_TARGET, "recall": RECALL_TARGET}}
    met = all(r["precision"] >= PRECISION_TARGET and r["recall"] >= RECALL_TARGET
              for r in crossed)
    result["target_met_on_held_out_halves"] = met
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "commons_eval.json").write_text(json.dumps(result, ensure_ascii=False,
                                                          indent=1), encoding="utf-8")
    lines = ["# Common-problem grouping", "",
             f"`{DATA.relative_to(ROOT)}`: {len(demands)} demands, {result['problems']} "
             f"problems, {at_default['pairs_true']} same-problem pairs. Written by "
             "`uv run python bench/commons.py`.", "",
             "Threshold chosen on one half of the problems, scored on the other "
             f"(target: precision ≥ {PRECISION_TARGET} at recall ≥ {RECALL_TARGET}):", "",
             "| tuned on | scored on | threshold | precision | recall |", "|---|---|---|---|---|",
             *(f"| {r['tuned_on']} | {r['scored_on']} | {r['threshold']} | {r['precision']} | "
               f"{r['recall']} |" for r in crossed), "",
             f"The method's threshold ({THRESHOLD}) on the whole set: precision "
             f"{at_default['precision']}, recall {at_default['recall']}.", "",
             "| threshold | precision | recall | pairs grouped |", "|---|---|---|---|",
             *(f"| {r['threshold']} | {r['precision']} | {r['recall']} | {r['pairs_found']} |"
               for r in curves["all"])]
    (REPORTS / "commons_eval.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("at_threshold", "cross_checked",
                                             "target_met_on_held_out_halves")},
                     ensure_ascii=False, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
