"""The dialogue rules against Rasa's own conversation tests (tests/stories/, run by
`rasa test core`): every path of docs/conversation.md as the policy must predict it."""

import subprocess
import sys
from pathlib import Path

import yaml

STORIES = Path(__file__).parent / "stories"


def test_there_are_enough_test_stories():
    stories = [s for f in STORIES.glob("*.yml")
               for s in yaml.safe_load(f.read_text(encoding="utf-8"))["stories"]]
    assert len(stories) >= 60
    assert len({s["story"] for s in stories}) == len(stories)  # names identify failures


def test_rasa_predicts_every_test_story(model_file, tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "rasa", "test", "core", "--stories", str(STORIES),
         "--model", str(model_file), "--out", str(tmp_path), "--fail-on-prediction-errors"],
        capture_output=True, text=True, timeout=600, cwd=Path(__file__).parent.parent)
    failed = tmp_path / "failed_test_stories.yml"
    detail = failed.read_text(encoding="utf-8") if failed.exists() else done.stderr[-3000:]
    assert done.returncode == 0, detail
