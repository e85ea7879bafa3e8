"""The README's figure tables, written from the results files (not a test, not a benchmark).

    uv run python bench/report.py          # rewrite the tables in README.md
    uv run python bench/report.py --check  # exit 1 if README.md differs from the results

Each table sits between ``<!-- report:NAME -->`` and ``<!-- /report:NAME -->`` in the
README and is rendered from JSON that a command regenerates: the NLU evaluation
(``reports/nlu_eval*.json``, ``make eval``), the knowledge-base evaluation
(``reports/kb_eval*.json``, ``make kb-eval``), the speed benchmark
(``bench/results/speed*.json``, ``make bench``; ``bench/speed_compare.py``) and the other
benchmarks (``bench/results/*.json``, each script's docstring says how). ``make report``
runs both evaluations and then this; ``tests/test_report.py`` fails when the README and the
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


def _met(ok: bool) -> str:
    return "met" if ok else "not met"


def services() -> str:
    """The knowledge base (``govbot kb eval --report``, ``bench/kb.py``), the first turns
    (``bench/first_answer.py``), tickets (``bench/tickets.py``), WeChat
    (``bench/wechat_load.py``), the dashboard (``bench/dashboard.py``), production mode
    (``bench/cluster_load.py``), policy delivery (``bench/proactive.py``), the
    common-problem grouping (``bench/commons.py``) and faults (``bench/faults.py``)."""
    sets = {name: load(f"reports/kb_eval{suffix}.json") for name, suffix in
            (("2026-12", "_questions_holdout_2026"), ("2026-11", "_questions_holdout"),
             ("tuning", ""))}
    new = sets["2026-12"]
    kb, first = load("bench/results/kb.json"), load("bench/results/first_answer.json")
    tickets, wechat = load("bench/results/tickets.json"), load("bench/results/wechat_load.json")
    dash, cluster = load("bench/results/dashboard.json"), load("bench/results/cluster_load.json")
    proactive, commons = load("bench/results/proactive.json"), load("reports/commons_eval.json")
    blind, faults = commons["blind"], load("bench/results/faults.json")
    sample, large = kb["sample"], kb["synthetic"]
    turn_ms = [t["ms"] for t in first["turns"]]

    def answers(r: dict) -> str:
        return f"{r['answer_accuracy']:.3f} / {r['wrong_answer_rate']:.3f}, {r['refusal_rate']:.3f}"

    def cluster_row(users: str) -> str:
        runs = cluster["users"][users]["runs"]
        order = sorted(runs, key=int)
        rate = " / ".join(f"{runs[r]['turns_per_second']:.1f}" for r in order)
        p95 = " / ".join(f"{runs[r]['p95_ms'] / 1000:.1f}" for r in order)
        retry = " / ".join(f"{100 * runs[r]['error_rate']:.1f} %" for r in order)
        scaling = cluster["users"][users]["scaling"]
        return (f"{rate} answered turns/s (×{scaling[order[1]]:.2f} for the second replica), "
                f"p95 {p95} s; no answer or \"please retry\" {retry}")

    met = (new["answer_accuracy"] >= 0.80 and new["wrong_answer_rate"] <= 0.08
           and new["refusal_rate"] >= 0.85)
    slowest = max(turn_ms)
    d_s, d_p = dash["sqlite"], dash["postgresql"]
    rows = [
        ("KB answers, held-out 2026-12 (n = {}, written apart): right / wrong answers of "
         "answerable questions, correct refusals".format(new["n"]),
         f"**{answers(new)}**", f"right ≥ 0.80, wrong ≤ 0.08, refusals ≥ 0.85: {_met(met)}"),
        ("the same, held-out 2026-11 (n = {}) / tuning set (n = {})".format(
            sets["2026-11"]["n"], sets["tuning"]["n"]),
         f"{answers(sets['2026-11'])}; {answers(sets['tuning'])}", ""),
        ("KB ranking before refusals, hit@1 / hit@3: held-out 2026-12 / 2026-11 / tuning",
         "; ".join(f"{r['ranking_hit_at_1']:.3f} / {r['ranking_hit_at_3']:.3f}"
                   for r in sets.values()),
         f"hit@3 ≥ 0.93: {_met(new['ranking_hit_at_3'] >= 0.93)}"),
        (f"KB search p50 / p95, {sample['passages']:,} passages ({sample['documents']} "
         "documents; standard questions, answer sentences and the answer check included)",
         f"{sample['search_ms_p50']:.1f} / {sample['search_ms_p95']:.1f} ms", ""),
        (f"KB search p50 / p95, {large['passages']:,} passages ({large['index_mb']} MB index)",
         f"{large['search_ms_p50']:.1f} / {large['search_ms_p95']:.1f} ms",
         f"p95 ≤ 15 ms: {_met(large['search_ms_p95'] <= 15)}"),
        (f"first turn of every kind after `govbot run` reports ready ({len(turn_ms)} kinds: "
         "greeting, demand, every form step, confirmation, status, policy questions, "
         "Traditional characters, thanks, a person)",
         f"{min(turn_ms):.0f}–{slowest:.0f} ms (ready after {first['seconds_to_ready']:.0f} s)",
         f"≤ 300 ms: {_met(slowest <= 300)}"),
        ("KB ingestion", f"{sample['passages_per_second']:.0f} passages/s (sample), "
         f"{large['passages_per_second']:.0f}/s ({large['passages']:,})", ""),
        (f"{tickets['sqlite']['tickets']:,} tickets opened (checks, duplicate search, routing, "
         "deadlines, two events; one transaction each)",
         f"SQLite {tickets['sqlite']['tickets_per_second']:.0f}/s, PostgreSQL "
         f"{tickets['postgresql']['tickets_per_second']:.0f}/s", ""),
        (f"WeChat channel: {wechat['users']} simulated users × {wechat['seconds']} s, one Rasa "
         "server",
         f"{wechat['messages']:,} messages ({wechat['messages_per_second']}/s) + "
         f"{wechat['retries_sent']} platform retries; answered exactly once: "
         f"{'yes' if wechat['answered_exactly_once'] else 'NO'}, {wechat['http_errors']} errors; "
         f"acknowledgement p50 / p95 / p99.9 / max {wechat['ack_p50_s']:.2f} / "
         f"{wechat['ack_p95_s']:.1f} / {wechat['ack_p999_s']:.1f} / {wechat['ack_max_s']:.1f} s",
         f"p99.9 ≤ 4.5 s: {_met(wechat['ack_p999_s'] <= 4.5)}"),
        (f"dashboard load (every figure), {dash['tickets']:,} tickets: last 30 days / all 180 "
         "days / one county over 180 days (median)",
         f"SQLite {d_s['last_30_days']['median_ms']} / {d_s['all_180_days']['median_ms']} / "
         f"{d_s['one_region_180_days']['median_ms']} ms, PostgreSQL "
         f"{d_p['last_30_days']['median_ms']} / {d_p['all_180_days']['median_ms']} / "
         f"{d_p['one_region_180_days']['median_ms']} ms",
         "≤ 500 ms: " + _met(max(d[k]["median_ms"] for d in (d_s, d_p) for k in d) <= 500)),
        ("production mode through nginx, 1 / 2 / 4 replicas, 50 users",
         cluster_row("50"), ""),
        ("the same, 500 users (overload on 2 cores)", cluster_row("500"), ""),
        (f"department queue page (about {tickets['sqlite']['queue_rows_per_query']:.0f} rows + "
         f"total) p50 / p95 at {tickets['sqlite']['tickets']:,} tickets",
         f"SQLite {tickets['sqlite']['queue_query_p50_ms']} / "
         f"{tickets['sqlite']['queue_query_p95_ms']} ms, PostgreSQL "
         f"{tickets['postgresql']['queue_query_p50_ms']} / "
         f"{tickets['postgresql']['queue_query_p95_ms']} ms", ""),
        (f"policy delivery: {proactive['sqlite']['profiles']:,} profiles, one new "
         f"province-wide policy ({proactive['sqlite']['qualifying']:,} qualify): matching and "
         "planning + sending to a channel stand-in (HTTP)",
         "; ".join(f"{name} {r['plan_seconds']:.1f} + {r['send_seconds']:.1f} s "
                   f"({r['sent_per_second']:.0f} notices/s)"
                   for name, r in (("SQLite", proactive["sqlite"]),
                                   ("PostgreSQL", proactive.get("postgresql")))
                   if r is not None),
         "≤ 60 s: " + _met(all(r["total_seconds"] <= 60 for r in (
             proactive["sqlite"], proactive.get("postgresql", proactive["sqlite"]))))),
        (f"common problems, blind held-out set ({blind['demands']} demands written without "
         "seeing the method): precision / recall at the method's threshold; best precision "
         "at recall ≥ 0.7 (the method before)",
         f"{blind['at_threshold']['precision']:.2f} / {blind['at_threshold']['recall']:.2f}; "
         f"{blind['best_precision_at_recall_target']['precision']:.2f} "
         f"({blind['before_best_precision_at_recall_target']['precision']:.2f})",
         "precision ≥ 0.9 at recall ≥ 0.7: " + _met(blind["target_met"])),
        (f"the same, tuning set ({commons['demands']} demands; threshold chosen on one half "
         "of the problems, scored on the other / split by sub-topic and city)",
         "; ".join(f"{r['precision']:.2f} / {r['recall']:.2f}" for r in commons["cross_checked"])
         + " / " + "; ".join(f"{r['precision']:.2f} / {r['recall']:.2f}"
                             for r in commons["cross_checked_by_block"]), ""),
        (f"faults under load: {faults['users']} users through nginx, 2 replicas; per fault "
         "the time until the member or service served again",
         "; ".join(f"{f['fault']} {f['serves_again_s']} s" for f in faults["faults"]),
         "≤ 10 s: " + _met(all((f["serves_again_s"] or 99) <= 10 for f in faults["faults"]
                                if f["member"] not in ("rabbitmq",)))),
        ("the same: messages answered / told to retry / failed (status or connection); "
         "tickets told / stored once / duplicated / stored untold; statistics turns per "
         "answered message",
         f"{faults['messages']['answered']:,} / {faults['messages']['retry']} / "
         f"{faults['messages']['error'] + faults['messages']['connection']}; "
         f"{faults['tickets']['told']} / {faults['tickets']['told_and_stored_once']} / "
         f"{faults['tickets']['duplicated']} / {faults['tickets']['stored_untold']}; "
         f"{faults['statistics']['ratio']:.3f}",
         "no failure, every number once, ≥ 0.99: " + _met(
             faults["messages"]["error"] + faults["messages"]["connection"] == 0
             and faults["tickets"]["told_and_stored_once"] == faults["tickets"]["told"]
             and not faults["tickets"]["duplicated"] and not faults["tickets"]["stored_untold"]
             and faults["statistics"]["ratio"] >= 0.99))]
    return "\n".join(["| figure | value | target |", "|---|---|---|",
                      *(f"| {a} | {b} | {c} |" for a, b, c in rows)]) + "\n"


TABLES: dict[str, Callable[[], str]] = {"nlu": nlu, "speed": speed, "services": services}


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
