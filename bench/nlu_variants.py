"""Compare NLU pipeline variants on the held-out set (figures behind config.yml's choices).

    uv run python bench/nlu_variants.py [--only NAME ...]

Trains an NLU-only model per variant into a temporary folder, scores it with the
same code as ``govbot eval`` and prints a table; writes reports/nlu_variants.{md,json}.
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
from bot.examples import Prediction, load_test_file  # noqa: E402
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
    return {
        "config.yml (svm, C=1, blend 0.5)": base,
        "svm C=0.3": _replace(base, "Classifier", C=0.3),
        "svm C=3": _replace(base, "Classifier", C=3.0),
        "logreg C=10": _replace(base, "Classifier", model="logreg", C=10.0),
        "logreg C=30": _replace(base, "Classifier", model="logreg", C=30.0),
        "domain from sub-topic model only (blend 0)": _replace(base, "DomainClassifier",
                                                               domain_blend=0.0),
        "domain model only (blend 1)": _replace(base, "DomainClassifier", domain_blend=1.0),
        "no normaliser": no_norm,
        "no user dictionary": no_dict,
        "no character n-grams": words_only,
        "character n-grams across words (char)": chars_over_words,
        "DIET (0 transformer layers, 50 epochs) for intents": diet + diet_tail + diet_domain
        + restorer,
    }


def run_variant(name: str, pipeline: list[dict], settings, gold, workdir: Path) -> dict:
    from rasa.model_training import train_nlu

    from bot.parsing import NluParser

    config = yaml.safe_load(settings.config_file.read_text(encoding="utf-8"))
    config["pipeline"] = pipeline
    config.pop("policies", None)
    cfg = workdir / "config.yml"
    cfg.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    started = time.perf_counter()
    # data/nlu/heldout/test.yml is not in Rasa's format, so Rasa's loader skips it
    model = train_nlu(str(cfg), str(settings.data_dir / "nlu"), str(workdir),
                      fixed_model_name="m")
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
            **{k: round(s[k], 3) for k in ("intent_accuracy", "domain_accuracy",
                                          "domain_macro_f1", "subtopic_accuracy",
                                          "null_accuracy")}}


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
    gold = load_test_file(settings.heldout_file)
    base = yaml.safe_load(settings.config_file.read_text(encoding="utf-8"))["pipeline"]
    if args.variant:
        with tempfile.TemporaryDirectory() as tmp:
            row = run_variant(args.variant, variants(base)[args.variant], settings, gold,
                              Path(tmp))
        print("RESULT " + json.dumps(row, ensure_ascii=False), flush=True)
        return
    rows = []
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
    keys = list(rows[0])
    md = ["| " + " | ".join(keys) + " |", "|---" * len(keys) + "|"]
    md += ["| " + " | ".join(str(r[k]) for k in keys) + " |" for r in rows]
    print("\n".join(md))
    if not args.only:
        out = settings.reports_dir
        out.mkdir(exist_ok=True)
        (out / "nlu_variants.json").write_text(json.dumps(rows, ensure_ascii=False, indent=1))
        (out / "nlu_variants.md").write_text(
            "# NLU pipeline variants on the held-out set\n\n"
            "Produced by `uv run python bench/nlu_variants.py` on a 2-core machine.\n\n"
            + "\n".join(md) + "\n")


if __name__ == "__main__":
    main()
