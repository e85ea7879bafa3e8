"""The README's figure tables, written from the results files (not a test, not a benchmark).

    uv run python bench/report.py          # rewrite the tables in README.md
    uv run python bench/report.py --check  # exit 1 if README.md differs from the results

Each table sits between ``<!-- report:NAME -->`` and ``<!-- /report:NAME -->`` in the
README and is rendered from JSON that a command regenerates: the NLU evaluation
(``reports/nlu_eval*.json``, ``make eval``) and the speed benchmark
(``bench/results/speed*.json``, ``make bench``; ``bench/speed_compare.py``). ``make report``
runs the evaluation and then this; ``tests/test_report.py`` fails when the README and the
results disagree, so a figure cannot drift from the run that produced it.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
REGION = re.compile(r"(<!-- report:(?P<name>[a-z_]+) -->\n)(?P<body>.*?)"
                    r"(<!-- /report:(?P=name) -->)", re.S)


def load(path: str) -> dict:
    return json.loads((ROOT / path).read_text(encoding="utf-8"))


def nlu() -> str:
    """The held-out NLU scores of the model and the baseline (``govbot eval``)."""
    rows = []
    for label, path in (("real-style (`real.yml`)", "reports/nlu_eval_real.json"),
                        ("project (`test.yml`)", "reports/nlu_eval.json")):
        r = load(path)
        m, b = r["model"], r["baseline"]
        rows.append(f"| {label} | {m['n']} | **{m['intent_accuracy']:.3f}** | "
                    f"**{m['domain_accuracy']:.3f}** | **{m['domain_macro_f1']:.3f}** "
                    f"({b['domain_macro_f1']:.3f}) | {m['subtopic_accuracy']:.3f} | "
                    f"{m['null_precision']:.3f} / {m['null_accuracy']:.3f} |")
    return "\n".join([
        "| held-out set | n | intent acc | domain acc | domain macro-F1 (baseline) | "
        "sub-topic acc | no demand: precision / kept out |",
        "|---|---|---|---|---|---|---|", *rows,
        "| *targets (issue #15, real-style set)* | ≥ 500 | ≥ 0.92 | ≥ 0.88 | "
        "≥ 0.85, ≥ baseline + 0.02 | | ≥ 0.95 |"]) + "\n"


def _row(result: dict, kind: str, clients: int) -> dict:
    return next(r for r in result[kind] if r["clients"] == clients)


def speed() -> str:
    """Full turns against bare parse, one and two Sanic workers (``bench/speed.py``)."""
    one, two = load("bench/results/speed.json"), load("bench/results/speed-2workers.json")
    lines = ["| clients | parse, 1 worker | full turns, 1 worker | ratio | parse, 2 workers | "
             "full turns, 2 workers | ratio |", "|---|---|---|---|---|---|---|"]
    for c in (1, 20, 100):
        p1, t1 = _row(one, "model_parse", c), _row(one, "rest_turn", c)
        p2, t2 = _row(two, "model_parse", c), _row(two, "rest_turn", c)
        lines.append(
            f"| {c} | {p1['per_second']:.0f}/s | {t1['per_second']:.0f}/s, p50 / p95 "
            f"{t1['p50_ms']:.0f} / {t1['p95_ms']:.0f} ms, {t1['errors']} errors, "
            f"{t1['wrong_replies']} wrong | **{t1['ratio_to_parse']:.2f}** | "
            f"{p2['per_second']:.0f}/s | {t2['per_second']:.0f}/s, p95 {t2['p95_ms']:.0f} ms | "
            f"{t2['ratio_to_parse']:.2f} |")
    m1, m2 = one["peak_rss_mib"], two["peak_rss_mib"]
    lines += [
        "",
        "| figure | value | target (issue #17) |", "|---|---|---|",
        f"| full turns, p95 at 1 client | {_row(one, 'rest_turn', 1)['p95_ms']:.1f} ms "
        "| ≤ 25 ms |",
        f"| full turns ÷ bare parse at 20 clients | "
        f"{_row(one, 'rest_turn', 20)['ratio_to_parse']:.2f} (1 worker), "
        f"{_row(two, 'rest_turn', 20)['ratio_to_parse']:.2f} (2 workers) | ≥ 0.7 |",
        f"| peak resident memory, one deployment (1 worker) | {m1['total']:,.0f} MiB: Rasa "
        f"server with the actions {m1['rasa-server']:,.0f}, web application "
        f"{m1['web']:,.0f} | ≤ 1.2 GiB (1,229 MiB) |",
        f"| the same, 2 workers | {m2['total']:,.0f} MiB (two copies of the model and "
        "knowledge base) | |",
        f"| in-process parse p50 / p95 | {one['parse_in_process']['p50_ms']} / "
        f"{one['parse_in_process']['p95_ms']} ms | p95 ≤ 10 ms (issue #15) |",
        f"| model size | {one['model_mib']} MiB | ≤ 50 MB (issue #15) |",
        f"| measured | {one['when']} (1 worker), {two['when']} (2 workers) | |"]
    return "\n".join(lines) + "\n"


TABLES: dict[str, Callable[[], str]] = {"nlu": nlu, "speed": speed}


def render(text: str) -> str:
    """``text`` with every marked table rendered from the results files."""
    def table(m: re.Match) -> str:
        name = m["name"]
        if name not in TABLES:
            raise KeyError(f"README.md: no table named {name!r} (known: {', '.join(TABLES)})")
        return m[1] + TABLES[name]() + m[4]
    return REGION.sub(table, text)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only report a difference")
    args = ap.parse_args()
    text = README.read_text(encoding="utf-8")
    new = render(text)
    if args.check:
        if new != text:
            print("README.md's figure tables differ from the results: run make report",
                  file=sys.stderr)
            return 1
        return 0
    README.write_text(new, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
