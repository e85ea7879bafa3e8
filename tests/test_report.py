"""The README's figure tables are what the results files say (``make report`` writes them:
bench/report.py), so a figure cannot drift from the run that produced it."""

import importlib.util
import json
import subprocess
import sys

import pytest
from conftest import ROOT


@pytest.fixture(scope="module")
def report():
    spec = importlib.util.spec_from_file_location("report", ROOT / "bench" / "report.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_readme_tables_match_the_results():
    p = subprocess.run([sys.executable, "bench/report.py", "--check"], cwd=ROOT,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def test_a_marked_table_is_rendered_from_its_results(report):
    real = json.loads((ROOT / "reports" / "nlu_eval_real.json").read_text(encoding="utf-8"))
    text = "before\n<!-- report:nlu -->\nstale\n<!-- /report:nlu -->\nafter\n"
    out = report.render(text)
    assert out.startswith("before\n<!-- report:nlu -->\n| held-out set |")
    assert "stale" not in out and out.endswith("<!-- /report:nlu -->\nafter\n")
    assert f"**{real['model']['intent_accuracy']:.3f}**" in out
    with pytest.raises(KeyError, match="no table named"):
        report.render("<!-- report:nothing -->\n<!-- /report:nothing -->\n")


def test_the_services_table_reads_the_knowledge_base_evaluation(report):
    held_out = json.loads((ROOT / "reports" / "kb_eval_questions_holdout_2026.json")
                          .read_text(encoding="utf-8"))
    table = report.services()
    first = table.splitlines()[2]
    assert f"n = {held_out['n']}" in first
    assert f"{held_out['answer_accuracy']:.3f} / {held_out['wrong_answer_rate']:.3f}" in first
    assert first.endswith("met |")  # the target's verdict is computed, not written
