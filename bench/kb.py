"""Knowledge-base benchmark (not a test): ingestion throughput, index size, search latency.

    uv run python bench/kb.py [--chunks 10000]

1. The sample knowledge base (data/kb/policies).
2. A synthetic knowledge base of about --chunks passages: documents assembled from
   shuffled sentences of the real ones (same vocabulary and lengths), so the index
   and the posting lists are as large as a real one of that size.
Searches are the questions of data/kb/questions.yml (each timed three times after one
warm-up pass; its median counts), with the scope evidence as the assistant uses it.
Prints figures and writes bench/results/kb.json.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.kb.documents import find_documents, load_document  # noqa: E402
from bot.kb.evaluate import load_questions  # noqa: E402
from bot.kb.index import KnowledgeBase  # noqa: E402
from bot.kb.schema import kb_file  # noqa: E402
from bot.kb.scope import scope_model  # noqa: E402
from bot.settings import load_settings  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "data" / "kb" / "policies"
RESULTS = ROOT / "bench" / "results"
REPEATS = 3


def synthetic(folder: Path, chunks: int, seed: int = 11) -> None:
    """Write documents of five ~300-character sections each until ``chunks`` passages."""
    rnd = random.Random(seed)
    sentences, headings = [], []
    for path in find_documents(POLICIES):
        doc = load_document(path, POLICIES)
        for line in doc.body.splitlines():
            if line.startswith("## "):
                headings.append(line[3:])
            else:
                sentences += [s for s in re.split(r"(?<=[。；])", line) if len(s) > 8]
    folder.mkdir(parents=True)
    for n in range(chunks // 5):
        sections = []
        for h in rnd.sample(headings, 5):
            text, body = "", []
            while len(text) < 300:
                s = rnd.choice(sentences)
                text += s
            body.append(text)
            sections.append(f"## {h}\n" + "\n".join(body))
        (folder / f"synthetic-{n:05d}.md").write_text(
            f"---\nid: synthetic-{n:05d}\ntitle: 合成政策文件第{n}号\ndomains: [policy]\n"
            f"region: 全国\n---\n" + "\n\n".join(sections) + "\n", encoding="utf-8")


def measure(folder: Path, kb_dir: Path, questions: list[str]) -> dict:
    kb = KnowledgeBase(kb_dir, create=True,
                       scope=scope_model(load_settings({"GOVBOT_HOME": str(ROOT)})))
    t0 = time.perf_counter()
    report = kb.ingest(folder)
    seconds = time.perf_counter() - t0
    docs = len(report.added)
    for q in questions:  # warm-up
        kb.search(q)
    ms = []  # per question, the median of three timings (one scheduler hiccup is not a p95)
    for q in questions:
        runs = []
        for _ in range(REPEATS):
            t = time.perf_counter()
            kb.search(q)
            runs.append(1000 * (time.perf_counter() - t))
        ms.append(statistics.median(runs))
    t0 = time.perf_counter()
    again = kb.ingest(folder)  # nothing changed: hashes only
    reingest = time.perf_counter() - t0
    kb.close()
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"documents": docs, "passages": report.chunks,
            "ingest_seconds": round(seconds, 1),
            "documents_per_second": round(docs / seconds, 1),
            "passages_per_second": round(report.chunks / seconds, 1),
            "reingest_unchanged_seconds": round(reingest, 2),
            "unchanged": len(again.unchanged),
            "index_mb": round(kb_file(kb_dir).stat().st_size / 2**20, 1),
            "searches": len(ms), "search_ms_p50": round(q[49], 2),
            "search_ms_p95": round(q[94], 2), "search_ms_max": round(max(ms), 2)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--chunks", type=int, default=10_000)
    args = ap.parse_args()
    questions = [q.q for q in load_questions(ROOT / "data" / "kb" / "questions.yml")]
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["sample"] = measure(POLICIES, Path(tmp) / "sample", questions)
        print("sample", json.dumps(results["sample"]), flush=True)
        synthetic(Path(tmp) / "docs", args.chunks)
        results["synthetic"] = measure(Path(tmp) / "docs", Path(tmp) / "big", questions)
        print("synthetic", json.dumps(results["synthetic"]), flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "kb.json").write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
