"""Scoring retrieval on a question set (the contract's question format)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.kb.index import KnowledgeBase


@dataclass(frozen=True)
class Question:
    q: str
    expect: tuple[str, ...]
    #: groups of short literal strings a right answer states (any one of a group)
    facts: tuple[tuple[str, ...], ...] = ()


def states(answer: str, facts: tuple[tuple[str, ...], ...]) -> bool:
    """Whether ``answer`` states every group of ``facts`` (spaces ignored)."""
    flat = "".join(answer.split())
    return all(any("".join(alt.split()) in flat for alt in group) for group in facts)


def _facts(value: Any, path: Path, i: int) -> tuple[tuple[str, ...], ...]:
    if value in (None, []):
        return ()
    groups = value if isinstance(value, list) else [value]
    out = []
    for group in groups:
        alts = group if isinstance(group, list) else [group]
        if not alts or not all(isinstance(a, str | int | float) and str(a).strip()
                               for a in alts):
            raise QuestionFileError(f"{path}: question {i}: facts must be groups of strings, "
                                    f"like [[\"100%\", \"百分之百\"]]")
        out.append(tuple(str(a).strip() for a in alts))
    return tuple(out)


class QuestionFileError(ValueError):
    pass


def load_questions(path: Path) -> list[Question]:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise QuestionFileError(f"{path}: cannot read ({exc})") from None
    out = []
    for i, item in enumerate(raw.get("questions") or [], start=1):
        if not isinstance(item, dict) or not str(item.get("q") or "").strip() \
                or not isinstance(item.get("expect", []), list):
            raise QuestionFileError(f"{path}: question {i} needs q: text and expect: [ids]")
        out.append(Question(str(item["q"]), tuple(str(e) for e in item.get("expect") or []),
                            _facts(item.get("facts"), path, i)))
    if not out:
        raise QuestionFileError(f"{path}: no questions")
    return out


def evaluate(kb: KnowledgeBase, questions: list[Question], top_k: int = 5) -> dict[str, Any]:
    """Retrieval (hit@k, MRR, refusals) and answers: a right answer's first hit is an
    expected document and its ``answer`` text states every fact of the question."""
    answerable = [q for q in questions if q.expect]
    unanswerable = [q for q in questions if not q.expect]
    h1 = h3 = rr = refused_answerable = refused_unanswerable = right = wrong = 0.0
    ranked_h1 = ranked_h3 = 0.0  # the ranking alone, before the decision not to answer
    misses, false_answers, wrong_answers, ms = [], [], [], []
    for q in questions:
        t0 = time.perf_counter()
        hits = kb.search(q.q, top_k=top_k)
        ms.append(1000 * (time.perf_counter() - t0))
        ids = [h["doc_id"] for h in hits]
        if not q.expect:
            refused_unanswerable += not ids
            if ids:
                false_answers.append({"q": q.q, "got": ids[:3], "answer": hits[0]["answer"]})
            continue
        refused_answerable += not ids
        ranked = [h["doc_id"] for h in kb.search(q.q, top_k=top_k, refuse=False)]
        ranked_h1 += bool(ranked) and ranked[0] in q.expect
        ranked_h3 += any(d in q.expect for d in ranked[:3])
        rank = next((i for i, d in enumerate(ids, start=1) if d in q.expect), None)
        h1 += rank == 1
        h3 += rank is not None and rank <= 3
        rr += 1 / rank if rank else 0
        if rank != 1:
            misses.append({"q": q.q, "expect": list(q.expect), "got": ids[:3]})
        if hits:
            ok = rank == 1 and states(hits[0]["answer"], q.facts)
            right += ok
            wrong += not ok
            if not ok:
                wrong_answers.append({"q": q.q, "expect": list(q.expect), "got": ids[0],
                                      "section": hits[0]["section"],
                                      "facts": [list(g) for g in q.facts],
                                      "answer": hits[0]["answer"]})
    a, u = max(len(answerable), 1), max(len(unanswerable), 1)
    ms.sort()
    return {"n": len(questions), "answerable": len(answerable),
            "unanswerable": len(unanswerable),
            "with_facts": sum(bool(q.facts) for q in answerable),
            "hit_at_1": round(h1 / a, 3), "hit_at_3": round(h3 / a, 3), "mrr": round(rr / a, 3),
            "ranking_hit_at_1": round(ranked_h1 / a, 3),
            "ranking_hit_at_3": round(ranked_h3 / a, 3),
            "answer_accuracy": round(right / a, 3), "wrong_answer_rate": round(wrong / a, 3),
            "refusal_rate": round(refused_unanswerable / u, 3),
            "false_refusal_rate": round(refused_answerable / a, 3),
            "latency_ms_p50": round(ms[len(ms) // 2], 2),
            "misses": misses, "false_answers": false_answers, "wrong_answers": wrong_answers}


def markdown_report(result: dict[str, Any], questions: Path, kb: Path) -> str:
    lines = [
        "# Knowledge-base retrieval evaluation", "",
        f"Questions: `{questions}` (n = {result['n']}: {result['answerable']} answerable, "
        f"{result['unanswerable']} with no answer in the knowledge base; "
        f"{result['with_facts']} answerable ones carry the facts a right answer states); "
        f"knowledge base: "
        f"`{kb}`.", "",
        "| measure | value |", "|---|---|",
        f"| hit@1 (answerable) | {result['hit_at_1']:.3f} |",
        f"| hit@3 (answerable) | {result['hit_at_3']:.3f} |",
        f"| hit@1 / hit@3 of the ranking alone (before the decision not to answer) | "
        f"{result['ranking_hit_at_1']:.3f} / {result['ranking_hit_at_3']:.3f} |",
        f"| MRR (answerable) | {result['mrr']:.3f} |",
        f"| answer accuracy (answerable; right document, its answer states the facts) | "
        f"{result['answer_accuracy']:.3f} |",
        f"| wrong answers (answerable; an answer shown that is not right) | "
        f"{result['wrong_answer_rate']:.3f} |",
        f"| correct refusals (unanswerable → `[]`) | {result['refusal_rate']:.3f} |",
        f"| false refusals (answerable → `[]`) | {result['false_refusal_rate']:.3f} |",
        f"| search latency p50 | {result['latency_ms_p50']} ms |", "",
        "## Answerable questions not ranked first", ""]
    lines += [f"- {m['q']} — expected {', '.join(m['expect'])}; got "
              f"{', '.join(m['got']) or '[] (refused)'}" for m in result["misses"]] or ["(none)"]
    lines += ["", "## Answers shown that are not right", ""]
    lines += [f"- {m['q']} — expected {', '.join(m['expect'])} stating "
              f"{' + '.join('/'.join(g) for g in m['facts']) or '(no facts)'}; showed "
              f"{m['got']} “{m['section']}”: {m['answer'][:120]}"
              for m in result["wrong_answers"]] or ["(none)"]
    lines += ["", "## Unanswerable questions that got an answer", ""]
    lines += [f"- {m['q']} — got {', '.join(m['got'])}" for m in result["false_answers"]] \
        or ["(none)"]
    return "\n".join(lines) + "\n"
