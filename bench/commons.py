"""Common-problem grouping measured on the hand-labelled demands (not a test).

    uv run python bench/commons.py

Reads ``data/commons/demands.yml`` (every demand labelled with the concrete problem it
reports; see its README), groups all of them with ``bot.proactive.commons`` at each
threshold, and scores the pairs it puts together against the labels: precision (pairs
grouped that are one problem), recall (one-problem pairs grouped). The method never reads
the labels (``problem``, ``hard``, ``near``).

The threshold is chosen honestly: the problems are split in two halves by a fixed hash;
the threshold with the best recall at precision ≥ 0.9 on one half is scored on the other,
and the other way round. Writes ``reports/commons_eval.{json,md}``; the target (issue #19)
is precision ≥ 0.9 at recall ≥ 0.7 on those held-out halves.

Also reported, to read that figure right:

* the whole set at the same thresholds: a half counts only pairs of two of its own
  demands, so a demand wrongly joined to a group of the other half is an error neither
  half sees (a hard negative's problem id is hashed apart from the group it imitates);
* a stricter split, by sub-topic and city (the blocks the method compares within), which
  keeps every candidate pair inside one half, so that every error counts;
* variants of the method (the method before, each part left out, other linkages), each
  through the same protocol.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import yaml  # noqa: E402

from bot.proactive import commons  # noqa: E402
from bot.proactive.commons import THRESHOLD, WEIGHTS, Demand, Weights, pairs_of  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "data" / "commons" / "demands.yml"
REPORTS = ROOT / "reports"
HELDOUT = ROOT / "data" / "commons" / "heldout.yml"  # written blind to the method
THRESHOLDS = [round(0.005 * i, 3) for i in range(1, 61)]  # 0.005 … 0.30
PRECISION_TARGET, RECALL_TARGET = 0.9, 0.7

#: the method before (cosine of words and bigrams, +0.05 in the same county, average
#: linkage), the final one, and the final one with one thing changed
VARIANTS: dict[str, Weights] = {
    "before: cosine, +0.05 same county, average linkage": Weights(
        shared_concept=0.0, exclusive_concepts=0.0, shared_place=0.0, different_places=0.0,
        consultation=0.0, same_county=0.05, cue_tokens=False, linkage="average"),
    "final": WEIGHTS,
    "final, average linkage": replace(WEIGHTS, linkage="average"),
    "final, complete linkage": replace(WEIGHTS, linkage="complete"),
    "final without the consultation cue": replace(WEIGHTS, consultation=0.0),
    "final without concept bonus and veto": replace(WEIGHTS, shared_concept=0.0,
                                                    exclusive_concepts=0.0),
    "final without place bonus and veto": replace(WEIGHTS, shared_place=0.0,
                                                  different_places=0.0),
    "final without concept and place tokens": replace(WEIGHTS, cue_tokens=False),
    "final, +0.05 same county": replace(WEIGHTS, same_county=0.05),
}


def load(path: Path = DATA) -> tuple[list[Demand], dict[str, str]]:
    rows = yaml.safe_load(path.read_text(encoding="utf-8"))["demands"]
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


def block_half(d: Demand) -> int:
    key = f"{d.subtopic}|{commons.city_of(d.region)}"
    return hashlib.sha256(key.encode()).digest()[0] % 2


def choose(curve: list[dict]) -> dict:
    ok = [r for r in curve if r["precision"] >= PRECISION_TARGET]
    return max(ok, key=lambda r: (r["recall"], -r["threshold"])) if ok else \
        max(curve, key=lambda r: r["precision"])


def cross(curves: dict[str, list[dict]], names: tuple[str, str]) -> list[dict]:
    """The threshold chosen on one half, scored on the other, and the whole set at it."""
    out = []
    for tune, test in (names, names[::-1]):
        chosen = choose(curves[tune])
        held = next(r for r in curves[test] if r["threshold"] == chosen["threshold"])
        whole = next(r for r in curves["all"] if r["threshold"] == chosen["threshold"])
        out.append({"tuned_on": tune, "scored_on": test, **held,
                    "all_precision": whole["precision"], "all_recall": whole["recall"]})
    return out


def met(rows: list[dict]) -> bool:
    return all(r["precision"] >= PRECISION_TARGET and r["recall"] >= RECALL_TARGET
               for r in rows)


def measure(demands: list[Demand], problem: dict[str, str], weights: Weights,
            profiles: list[commons.Profile]) -> dict:
    """Every threshold's pairs (one scoring, one clustering per threshold: what ``group``
    does), scored on the whole set, the problem halves and the block halves."""
    scores = commons.score(demands, weights=weights, known=profiles)
    found = {t: pairs_of(commons.cluster(demands, scores.pairs, t, weights.linkage,
                                         scores.consultations)) for t in THRESHOLDS}
    every = {d.id for d in demands}
    splits = {"all": every,
              "half_a": {d.id for d in demands if half(problem[d.id]) == 0},
              "half_b": {d.id for d in demands if half(problem[d.id]) == 1},
              "block_a": {d.id for d in demands if block_half(d) == 0},
              "block_b": {d.id for d in demands if block_half(d) == 1}}
    curves = {name: [{"threshold": t, **score(found[t], truth(problem, ids), ids)}
                     for t in THRESHOLDS] for name, ids in splits.items()}
    crossed = cross(curves, ("half_a", "half_b"))
    steady = [a["threshold"] for a, b in zip(curves["half_a"], curves["half_b"], strict=True)
              if met([a, b])]
    return {"curves": curves, "cross_checked": crossed,
            "cross_checked_by_block": cross(curves, ("block_a", "block_b")),
            "thresholds_meeting_target_on_both_halves": steady}


def main() -> int:
    demands, problem = load()
    started = time.perf_counter()
    commons.group(demands)
    seconds = time.perf_counter() - started
    profiles = [commons.profile(d.text) for d in demands]
    runs = {name: measure(demands, problem, w, profiles) for name, w in VARIANTS.items()}
    final = runs["final"]
    curves, crossed = final["curves"], final["cross_checked"]
    at_default = next(r for r in curves["all"] if r["threshold"] == THRESHOLD)
    result = {"when": time.strftime("%Y-%m-%d %H:%M"), "demands": len(demands),
              "problems": len(set(problem.values())), "pairs_true": at_default["pairs_true"],
              "threshold": THRESHOLD, "at_threshold": at_default, "cross_checked": crossed,
              "cross_checked_by_block": final["cross_checked_by_block"],
              "thresholds_meeting_target_on_both_halves":
                  final["thresholds_meeting_target_on_both_halves"],
              "curves": {k: v for k, v in curves.items() if not k.startswith("block")},
              "seconds_for_one_grouping": round(seconds, 2),
              "variants": {name: {k: v for k, v in run.items() if k != "curves"}
                           for name, run in runs.items()},
              "target": {"precision": PRECISION_TARGET, "recall": RECALL_TARGET}}
    result["target_met_on_held_out_halves"] = met(crossed)
    result["blind"] = blind()
    REPORTS.mkdir(exist_ok=True)
    (REPORTS / "commons_eval.json").write_text(json.dumps(result, ensure_ascii=False,
                                                          indent=1), encoding="utf-8")
    (REPORTS / "commons_eval.md").write_text(markdown(result, runs), encoding="utf-8")
    print(json.dumps({k: result[k] for k in ("at_threshold", "cross_checked",
                                             "cross_checked_by_block",
                                             "target_met_on_held_out_halves", "blind")},
                     ensure_ascii=False, indent=1))
    return 0


def blind() -> dict:
    """The method as shipped (its default threshold) on ``heldout.yml``: demands written by
    someone who saw neither the method, its cue words nor the tuning set — the figure to
    trust. Also the best threshold there, for information only (it is not chosen on it)."""
    demands, problem = load(HELDOUT)
    every = {d.id for d in demands}
    gold = truth(problem, every)
    scores = commons.score(demands, weights=WEIGHTS,
                           known=[commons.profile(d.text) for d in demands])
    curve = [{"threshold": t, **score(pairs_of(commons.cluster(
        demands, scores.pairs, t, WEIGHTS.linkage, scores.consultations)), gold, every)}
        for t in THRESHOLDS]
    at = next(r for r in curve if r["threshold"] == THRESHOLD)
    before = VARIANTS["before: cosine, +0.05 same county, average linkage"]
    old = commons.score(demands, weights=before,
                        known=[commons.profile(d.text) for d in demands])
    old_curve = [{"threshold": t, **score(pairs_of(commons.cluster(
        demands, old.pairs, t, before.linkage, old.consultations)), gold, every)}
        for t in THRESHOLDS]

    def best_precision_at_recall(rows: list[dict]) -> dict | None:
        ok = [r for r in rows if r["recall"] >= RECALL_TARGET]
        return max(ok, key=lambda r: r["precision"]) if ok else None
    return {"file": str(HELDOUT.relative_to(ROOT)), "demands": len(demands),
            "problems": len(set(problem.values())), "pairs_true": len(gold),
            "at_threshold": at, "target_met": met([at]), "curve": curve,
            "best_precision_at_recall_target": best_precision_at_recall(curve),
            "before_best_precision_at_recall_target": best_precision_at_recall(old_curve)}


def _pr(r: dict) -> str:
    return f"{r['precision']:.3f} / {r['recall']:.3f}"


def _steady(ts: list[float]) -> str:
    return f"{len(ts)} ({ts[0]}–{ts[-1]})" if ts else "0"


def markdown(result: dict, runs: dict[str, dict]) -> str:
    crossed, at = result["cross_checked"], result["at_threshold"]
    lines = [
        "# Common-problem grouping", "",
        f"`{DATA.relative_to(ROOT)}`: {result['demands']} demands, {result['problems']} "
        f"problems, {result['pairs_true']} same-problem pairs. Written by "
        "`uv run python bench/commons.py`; the method is described in "
        "`bot/proactive/commons.py`. One grouping of the set takes "
        f"{result['seconds_for_one_grouping']} s (loading jieba included).", "",
        "## Blind held-out set (the figure to trust)", "",
        f"`{result['blind']['file']}`: {result['blind']['demands']} demands, "
        f"{result['blind']['problems']} problems, {result['blind']['pairs_true']} same-problem "
        "pairs, written by someone who saw neither the method, its cue words nor the set "
        "below. At the method's threshold "
        f"({result['threshold']}): precision / recall **{_pr(result['blind']['at_threshold'])}**"
        f" (target met: **{'yes' if result['blind']['target_met'] else 'no'}**). Other "
        "thresholds there, for information (not chosen on it): "
        + ", ".join(f"{r['threshold']}: {_pr(r)}" for r in result["blind"]["curve"]
                    if r["threshold"] in (0.015, 0.04, 0.06, 0.1, 0.15)) + ". The best "
        f"precision at recall ≥ {RECALL_TARGET} on it: "
        f"{_pr(result['blind']['best_precision_at_recall_target'])} (the method before: "
        f"{_pr(result['blind']['before_best_precision_at_recall_target'])}). The grouping "
        "is therefore a list for the centre's staff to check: the dashboard shows every "
        "demand of a group and reports only the ones left ticked.", "",
        "## Tuning set", "",
        "Threshold chosen on one half of the problems, scored on the other (target: "
        f"precision ≥ {PRECISION_TARGET} at recall ≥ {RECALL_TARGET}; "
        f"met: **{'yes' if result['target_met_on_held_out_halves'] else 'no'}**). The last "
        "column is the whole set at the same threshold:", "",
        "| tuned on | scored on | threshold | precision | recall | whole set: precision / "
        "recall |", "|---|---|---|---|---|---|",
        *(f"| {r['tuned_on']} | {r['scored_on']} | {r['threshold']} | {r['precision']} | "
          f"{r['recall']} | {r['all_precision']} / {r['all_recall']} |" for r in crossed), "",
        "**Read with care.** A half counts only pairs of two of its own demands. A hard "
        "negative's problem id is hashed independently of the group it imitates, so about "
        "half of the wrong joins (a hard negative put into another problem's group) fall "
        "between the halves and neither half counts them: precision on a half is higher "
        "than on the whole set. Split by sub-topic and city instead (every candidate pair "
        "then lies in one half, so every error counts), the same protocol gives:", "",
        "| tuned on | scored on | threshold | precision | recall |", "|---|---|---|---|---|",
        *(f"| {r['tuned_on']} | {r['scored_on']} | {r['threshold']} | {r['precision']} | "
          f"{r['recall']} |" for r in result["cross_checked_by_block"]), "",
        "Thresholds at which both problem halves meet the target: "
        f"{_steady(result['thresholds_meeting_target_on_both_halves'])}. The method's "
        f"default ({result['threshold']}) sits near the top of that range, where the whole "
        f"set keeps the most precision: precision {at['precision']}, recall "
        f"{at['recall']} ({at['pairs_found']} pairs).", "",
        "The cue lists (`bot/proactive/commons_cues.yml`: concepts, consultation cues, "
        "place words) and the weights were written by someone who had read the labelled "
        "set; the cross-half protocol protects the threshold, not those choices. Expect "
        "lower figures on new demands; a fresh labelled set would tell.", "",
        "## Variants", "",
        "Each through the same protocol: the two held-out halves (threshold in brackets), "
        "the whole set at those thresholds, the stricter block split, and how many "
        "thresholds meet the target on both problem halves.", "",
        "| variant | held-out halves | whole set | block split | steady thresholds |",
        "|---|---|---|---|---|",
        *(f"| {name} | " + "; ".join(f"{_pr(r)} ({r['threshold']})"
                                     for r in run["cross_checked"]) + " | "
          + "; ".join(f"{r['all_precision']:.3f} / {r['all_recall']:.3f}"
                      for r in run["cross_checked"]) + " | "
          + "; ".join(_pr(r) for r in run["cross_checked_by_block"]) + " | "
          + _steady(run["thresholds_meeting_target_on_both_halves"]) + " |"
          for name, run in runs.items()), "",
        "## The final method at each threshold", "",
        "| threshold | whole set: precision | recall | pairs grouped | half a | half b |",
        "|---|---|---|---|---|---|",
        *(f"| {r['threshold']} | {r['precision']} | {r['recall']} | {r['pairs_found']} | "
          f"{_pr(a)} | {_pr(b)} |"
          for r, a, b in zip(result["curves"]["all"], result["curves"]["half_a"],
                             result["curves"]["half_b"], strict=True))]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    raise SystemExit(main())
