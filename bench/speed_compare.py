"""Full-turn speed of this checkout against an earlier commit, on one machine in one run.

    uv run python bench/speed_compare.py --base 8c3a76a [--turns 2000]

Checks ``--base`` out into a scratch git worktree, trains its model there (with its own
code), then runs this checkout's ``bench/speed.py --skip-train`` on each tree's code one
after the other: the same conversations, the same client, the same machine minutes
apart. Writes
``bench/results/speed_compare.json``: both trees' REST-turn and parse rows and the
ratio of full-turn throughput (this checkout / base).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def run_speed(tree: Path, turns: int) -> dict:
    """This checkout's ``bench/speed.py``, run with ``tree``'s code (a copy of the bench
    in that tree, so its code comes first on the path) and that tree's trained model;
    its results file."""
    if tree != ROOT:
        shutil.copy(ROOT / "bench" / "speed.py", tree / "bench" / "speed.py")
    env = {**os.environ, "PYTHONPATH": str(tree), "GOVBOT_HOME": str(tree)}
    subprocess.run([sys.executable, "bench/speed.py", "--skip-train", "--turns", str(turns),
                    "--clients", "1,20"], cwd=tree, env=env, check=True)
    return json.loads((tree / "bench" / "results" / "speed.json").read_text())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", required=True, help="the git commit to compare against")
    ap.add_argument("--turns", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="govbot-base-") as scratch:
        base = Path(scratch) / "base"
        subprocess.run(["git", "worktree", "add", "--detach", str(base), args.base],
                       cwd=ROOT, check=True)
        try:
            env = {**os.environ, "PYTHONPATH": str(base), "GOVBOT_HOME": str(base)}
            subprocess.run([sys.executable, "-m", "bot.cli", "train"], cwd=base, env=env,
                           check=True)
            subprocess.run([sys.executable, "-m", "bot.cli", "train"], cwd=ROOT, check=True)
            before = run_speed(base, args.turns)
            after = run_speed(ROOT, args.turns)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT,
                           check=False)

    def turns(result: dict, clients: int) -> dict:
        return next(r for r in result["rest_turn"] if r["clients"] == clients)

    summary = {
        "when": time.strftime("%Y-%m-%d %H:%M"), "base": args.base,
        "head": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip(),
        "base_results": before, "head_results": after,
        "rest_turn_rate_ratio": {
            str(c): round(turns(after, c)["per_second"] / turns(before, c)["per_second"], 3)
            for c in (1, 20)},
        "rest_turn_p95_ratio": {
            str(c): round(turns(after, c)["p95_ms"] / turns(before, c)["p95_ms"], 3)
            for c in (1, 20)},
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "speed_compare.json").write_text(json.dumps(summary, indent=1))
    print(json.dumps({k: v for k, v in summary.items() if not k.endswith("_results")},
                     indent=1))


if __name__ == "__main__":
    main()
