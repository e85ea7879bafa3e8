"""Scoring NLU predictions against labelled examples, and writing the report.

Definitions (the same for the model and the baseline):

* ``intent_accuracy`` / ``intent_macro_f1`` — over every example.
* ``domain_accuracy`` and ``subtopic_accuracy`` — over the examples that *have* a
  gold domain (demand messages); predicting no domain for them is an error.
* ``domain_macro_f1`` — mean F1 of the domain classes, computed over every
  example, so a domain wrongly given to a greeting costs precision.
* ``null_accuracy`` — share of non-demand examples that correctly got no domain
  (greetings, thanks and chatter kept out of the domains);
* ``null_precision`` — share of the examples given no domain that carry no demand
  (a demand given no domain costs it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sklearn.metrics import accuracy_score, confusion_matrix, f1_score
from sklearn.metrics import precision_recall_fscore_support as prfs

from bot.examples import Example, Prediction
from bot.taxonomy import taxonomy

NONE = "(none)"


def score(gold: Sequence[Example], pred: Sequence[Prediction]) -> dict[str, Any]:
    if len(gold) != len(pred):
        raise ValueError("one prediction per example is needed")
    tax = taxonomy()
    domains = list(tax.domains)
    g_int, p_int = [g.intent for g in gold], [p.intent or NONE for p in pred]
    g_dom, p_dom = [g.domain or NONE for g in gold], [p.domain or NONE for p in pred]
    demand = [i for i, g in enumerate(gold) if g.domain]
    other = [i for i, g in enumerate(gold) if not g.domain]
    n = len(gold)

    def acc(idx: list[int], a: list[str], b: list[str]) -> float | None:
        return accuracy_score([a[i] for i in idx], [b[i] for i in idx]) if idx else None

    g_sub = [g.subtopic or NONE for g in gold]
    p_sub = [p.subtopic or NONE for p in pred]
    p, r, f, s = prfs(g_dom, p_dom, labels=domains, zero_division=0)
    per_domain = {d: {"precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                      "support": int(s[i])} for i, d in enumerate(domains)}
    labels = domains + [NONE]
    return {
        "n": n,
        "intent_accuracy": accuracy_score(g_int, p_int) if n else None,
        "intent_macro_f1": f1_score(g_int, p_int, average="macro", zero_division=0)
        if n else None,
        "domain_accuracy": acc(demand, g_dom, p_dom),
        "domain_macro_f1": f1_score(g_dom, p_dom, labels=domains, average="macro",
                                    zero_division=0) if demand else None,
        "subtopic_accuracy": acc(demand, g_sub, p_sub),
        "subtopic_macro_f1": f1_score(
            [g_sub[i] for i in demand], [p_sub[i] for i in demand],
            labels=sorted({g_sub[i] for i in demand}), average="macro", zero_division=0)
        if demand else None,
        "null_accuracy": acc(other, g_dom, p_dom),
        "null_precision": _share([g_dom[i] == NONE for i in range(n) if p_dom[i] == NONE]),
        "n_demand": len(demand),
        "per_domain": per_domain,
        "confusion": {"labels": labels,
                      "matrix": confusion_matrix(g_dom, p_dom, labels=labels).tolist()},
    }


def _share(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def errors(gold: Sequence[Example], pred: Sequence[Prediction], limit: int = 40
           ) -> list[dict[str, Any]]:
    """Examples the model got wrong (intent or domain or sub-topic), for the report."""
    out = []
    for g, p in zip(gold, pred, strict=True):
        if (g.intent, g.domain, g.subtopic) != (p.intent, p.domain, p.subtopic):
            out.append({"text": g.text, "gold": [g.intent, g.domain, g.subtopic],
                        "predicted": [p.intent, p.domain, p.subtopic]})
    return out[:limit]


def _fmt(x: Any) -> str:
    return "–" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


HEADLINE = ("intent_accuracy", "intent_macro_f1", "domain_accuracy", "domain_macro_f1",
            "subtopic_accuracy", "subtopic_macro_f1", "null_accuracy", "null_precision", "n")


def markdown_report(result: dict[str, Any]) -> str:
    """A human-readable report of ``govbot eval``'s JSON result."""
    tax = taxonomy()
    model, base = result["model"], result["baseline"]
    lines = ["# NLU evaluation", "",
             f"Test file: `{result['test_file']}` · training examples: "
             f"{result['n_train']} · model: `{result['model_file']}`", "",
             "| metric | model | baseline |", "|---|---|---|"]
    lines += [f"| {k} | {_fmt(model[k])} | {_fmt(base[k])} |" for k in HEADLINE]
    if result.get("before_corrections"):
        lines += _corrections_section(result)
    lines += ["", "## Per domain (model)", "",
              "| domain | precision | recall | F1 | support | baseline F1 |",
              "|---|---|---|---|---|---|"]
    for d, row in model["per_domain"].items():
        lines.append(f"| {d} {tax.domains[d].name} | {_fmt(row['precision'])} | "
                     f"{_fmt(row['recall'])} | {_fmt(row['f1'])} | {row['support']} | "
                     f"{_fmt(base['per_domain'][d]['f1'])} |")
    labels = model["confusion"]["labels"]
    lines += ["", "## Domain confusion matrix (model; rows = gold, columns = predicted)", "",
              "| gold \\ predicted | " + " | ".join(labels) + " |",
              "|---" * (len(labels) + 1) + "|"]
    for label, row in zip(labels, model["confusion"]["matrix"], strict=True):
        lines.append(f"| {label} | " + " | ".join(str(v) for v in row) + " |")
    if result.get("errors"):
        lines += ["", "## Some errors (gold → predicted: intent / domain / sub-topic)", ""]
        for e in result["errors"]:
            lines.append(f"- {e['text']} — {' / '.join(map(str, e['gold']))} → "
                         f"{' / '.join(map(str, e['predicted']))}")
    return "\n".join(lines) + "\n"


def _corrections_section(result: dict[str, Any]) -> list[str]:
    """Before/after ``govbot train --with-corrections``: the same test file, and the
    accepted corrections themselves."""
    before, after = result["before_corrections"], result["model"]
    fixed = result["corrections"]
    lines = ["", "## Effect of the accepted corrections", "",
             f"Model before (`models/govbot.before-corrections.tar.gz`) and after adding "
             f"{fixed['n']} accepted corrections (`data/nlu/corrections.yml`).", "",
             "| metric | before | after | corrections before | corrections after |",
             "|---|---|---|---|---|"]
    for k in ("intent_accuracy", "domain_accuracy", "domain_macro_f1", "subtopic_accuracy"):
        # a macro average over a handful of corrections says nothing: accuracies only
        few = k.endswith("macro_f1")
        lines.append(f"| {k} | {_fmt(before[k])} | {_fmt(after[k])} | "
                     f"{_fmt(None if few else fixed['before'][k])} | "
                     f"{_fmt(None if few else fixed['after'][k])} |")
    return lines
