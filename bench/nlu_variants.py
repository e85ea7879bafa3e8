"""Compare NLU pipeline variants on the validation split (the figures behind config.yml).

    uv run python bench/nlu_variants.py [--only NAME ...]

Every choice is made here, on the validation split of the training data (a fixed fifth,
``bot.examples.split_validation``); the held-out sets are never used for a choice, only
reported by ``govbot eval``. Trains an NLU-only model per variant on the other four
fifths, scores it on the validation fifth with the same code as ``govbot eval`` (and the
plain baseline trained on the same four fifths), prints a table and writes
reports/nlu_variants.{md,json}.
Each variant runs in its own process: jieba's dictionary is process-global, so a
variant without the user dictionary must not inherit it from the one before.
DIET is included for comparison (it takes minutes rather than seconds to train).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.evaluation import score  # noqa: E402
from bot.examples import (  # noqa: E402
    Prediction,
    dump_rasa_nlu,
    load_training_examples,
    rasa_nlu_data,
    split_validation,
)
from bot.logs import configure_logging, quiet_rasa_environment  # noqa: E402
from bot.settings import load_settings  # noqa: E402


def _replace(pipeline: list[dict], name: str, **changes) -> list[dict]:
    out = copy.deepcopy(pipeline)
    for step in out:
        if step["name"].endswith(name):
            step.update(changes)
    return out


def variants(base: list[dict]) -> dict[str, list[dict]]:
    no_norm = [s for s in base if not s["name"].endswith("TextNormalizer")]
    no_dict = copy.deepcopy(base)
    for s in no_dict:
        if s["name"] == "JiebaTokenizer":
            s.pop("dictionary_path", None)
    words_only = [s for s in base if s.get("analyzer") != "char_wb"]
    chars_over_words = copy.deepcopy(base)
    for s in chars_over_words:
        if s.get("analyzer") == "char_wb":
            s["analyzer"] = "char"
    diet_tail = [
        {"name": "DIETClassifier", "epochs": 50, "number_of_transformer_layers": 0,
         "entity_recognition": False, "constrain_similarities": True, "random_seed": 42},
        {"name": "FallbackClassifier", "threshold": 0.3, "ambiguity_threshold": 0.0},
    ]
    diet = [s for s in base if not s["name"].endswith(("SparseIntentClassifier",
                                                       "FallbackClassifier",
                                                       "DomainClassifier",
                                                       "OriginalTextRestorer"))]
    diet_domain = [s for s in base if s["name"].endswith("DomainClassifier")]
    restorer = [s for s in base if s["name"].endswith("OriginalTextRestorer")]
    glossary = copy.deepcopy(base)
    for s in glossary:
        if s["name"] == "JiebaTokenizer":
            s["dictionary_path"] = GLOSSARY_DICT
    def chars(lo: int, hi: int) -> list[dict]:
        out = copy.deepcopy(base)
        for s in out:
            if s.get("analyzer") == "char_wb":
                s.update(min_ngram=lo, max_ngram=hi)
        return out
    emphasis = {n: _replace(base, "TextNormalizer", emphasis_min_chars=n) for n in (60, 120)}
    return {
        "config.yml": base,
        "svm C=0.3": _replace(base, "Classifier", C=0.3),
        "svm C=3": _replace(base, "Classifier", C=3.0),
        "logreg C=10": _replace(base, "Classifier", model="logreg", C=10.0),
        "logreg C=30": _replace(base, "Classifier", model="logreg", C=30.0),
        "domain from sub-topic model only (blend 0)": _replace(base, "DomainClassifier",
                                                               domain_blend=0.0),
        "domain model only (blend 1)": _replace(base, "DomainClassifier", domain_blend=1.0),
        "no class weights": _replace(base, "Classifier", class_weight=None),
        "ensemble: svm + logreg (C=10), probabilities averaged":
            _replace(base, "Classifier", model="svm+logreg"),
        "ensemble for intents only": _replace(base, "SparseIntentClassifier",
                                              model="svm+logreg"),
        "request sentences emphasised (≥60 chars)": emphasis[60],
        "request sentences emphasised (≥120 chars)": emphasis[120],
        "glossary terms as jieba words": glossary,
        "character 1-4-grams": chars(1, 4),
        "character 2-4-grams": chars(2, 4),
        "character 1-2-grams": chars(1, 2),
        "no normaliser": no_norm,
        "no user dictionary": no_dict,
        "no character n-grams": words_only,
        "character n-grams across words (char)": chars_over_words,
        "DIET (0 transformer layers, 50 epochs) for intents": diet + diet_tail + diet_domain
        + restorer,
    }


GLOSSARY_DICT = "var/bench/jieba-glossary"


def glossary_dictionary(settings) -> None:  # noqa: ANN001 - Settings
    """The project's jieba dictionary plus every knowledge-base glossary term."""
    from bot.kb.tokens import glossary

    folder = settings.root / GLOSSARY_DICT
    folder.mkdir(parents=True, exist_ok=True)
    for path in (settings.root / "bot/resources/jieba").glob("*"):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "glossary.txt").write_text(
        "".join(f"{t} 2000 nz\n" for t in glossary() if " " not in t), encoding="utf-8")


def run_variant(name: str, pipeline: list[dict], settings, gold, workdir: Path,
                data: Path) -> dict:
    from rasa.model_training import train_nlu

    from bot.parsing import NluParser

    config = yaml.safe_load(settings.config_file.read_text(encoding="utf-8"))
    config["pipeline"] = pipeline
    config.pop("policies", None)
    cfg = workdir / "config.yml"
    cfg.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    started = time.perf_counter()
    model = train_nlu(str(cfg), str(data), str(workdir), fixed_model_name="m")
    seconds = time.perf_counter() - started
    parser = NluParser(Path(model))
    started = time.perf_counter()
    views = [parser.parse(g.text) for g in gold]
    parse_ms = 1000 * (time.perf_counter() - started) / len(gold)
    parser.close()
    preds = [Prediction(v["intent"]["name"], v["domain"]["name"], v["subtopic"]["name"])
             for v in views]
    s = score(gold, preds)
    return {"variant": name, "train_seconds": round(seconds, 1),
            "model_mb": round(Path(model).stat().st_size / 2**20, 1),
            "parse_ms_mean": round(parse_ms, 2),
            "n_train": None, "n_validation": len(gold),
            **{k: round(s[k], 3) for k in METRICS}}


def baseline_row(train, gold) -> dict:  # noqa: ANN001 - lists of Example
    """The plain TF-IDF + linear SVM baseline on the same split (the bar to clear)."""
    from bot.baseline import Baseline

    started = time.perf_counter()
    preds = Baseline().fit(train).predict([g.text for g in gold])
    s = score(gold, preds)
    return {"variant": "baseline (TF-IDF + linear SVM)",
            "train_seconds": round(time.perf_counter() - started, 1), "model_mb": None,
            "parse_ms_mean": None, "n_train": len(train), "n_validation": len(gold),
            **{k: round(s[k], 3) for k in METRICS}}


METRICS = ("intent_accuracy", "domain_accuracy", "domain_macro_f1", "subtopic_accuracy",
           "null_accuracy", "null_precision")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--only", nargs="*", help="substrings of variant names to run")
    ap.add_argument("--variant", help=argparse.SUPPRESS)  # internal: run one, print JSON
    args = ap.parse_args()
    os.environ["RASA_MAX_CACHE_SIZE"] = "0"  # cold training times, no reuse between variants
    quiet_rasa_environment()
    configure_logging()
    settings = load_settings()
    os.chdir(settings.root)
    train, gold = split_validation(load_training_examples(settings.training_files()))
    base = yaml.safe_load(settings.config_file.read_text(encoding="utf-8"))["pipeline"]
    if args.variant:
        with tempfile.TemporaryDirectory() as tmp:
            data = Path(tmp) / "train.yml"
            data.write_text(dump_rasa_nlu(rasa_nlu_data(train)), encoding="utf-8")
            row = run_variant(args.variant, variants(base)[args.variant], settings, gold,
                              Path(tmp), data)
        print("RESULT " + json.dumps(row, ensure_ascii=False), flush=True)
        return
    glossary_dictionary(settings)
    rows = [baseline_row(train, gold)]
    print(json.dumps(rows[0], ensure_ascii=False), flush=True)
    for name in variants(base):
        if args.only and not any(o in name for o in args.only):
            continue
        proc = subprocess.run([sys.executable, __file__, "--variant", name],
                              capture_output=True, text=True, cwd=settings.root)
        line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
        if line is None:
            sys.exit(f"variant {name!r} failed:\n{proc.stderr[-3000:]}")
        row = json.loads(line.removeprefix("RESULT "))
        print(json.dumps(row, ensure_ascii=False), flush=True)
        rows.append(row)
    out = settings.reports_dir
    out.mkdir(exist_ok=True)
    if args.only and (out / "nlu_variants.json").is_file():
        # a partial run updates its rows of the last full run (same data: see n_validation)
        earlier = json.loads((out / "nlu_variants.json").read_text())
        mine = {r["variant"]: r for r in rows}
        rows = [mine.pop(r["variant"], r) for r in earlier] + list(mine.values())
    keys = list(rows[0])
    md = ["| " + " | ".join(keys) + " |", "|---" * len(keys) + "|"]
    md += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    print("\n".join(md))
    (out / "nlu_variants.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1))
    (out / "nlu_variants.md").write_text(
        "# NLU pipeline variants on the validation split\n\n"
        "Produced by `uv run python bench/nlu_variants.py` on a 2-core machine: each "
        "variant trained on four fifths of the training data and scored on the fifth "
        "held back for choices (never on a held-out set). `--only NAME` re-measures some "
        "rows and keeps the others.\n\n"
        + "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
