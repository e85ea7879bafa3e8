"""The govbot command line, run as a user runs it (a real subprocess)."""

import json
import subprocess
import sys

import yaml


def govbot(settings, *args, stdin=None, timeout=900):
    return subprocess.run([sys.executable, "-m", "bot.cli", *args], input=stdin,
                          capture_output=True, text=True, cwd=settings.root, timeout=timeout)


def test_classify_prints_one_json_object_per_line(settings, model_file):
    lines = ["我们厂的过桥资金下个月到期，银行说不续贷了", "", "你好", "   ", "x" * 10000,
             "高新技术企业认定要满足哪些条件"]
    proc = govbot(settings, "classify", "--model", str(model_file),
                  stdin="\n".join(lines) + "\n")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["text"] for o in out] == lines
    for o in out:
        assert set(o) >= {"text", "intent", "domain", "subtopic", "entities"}
    assert out[0]["domain"]["name"] == "finance"
    assert out[1]["intent"]["name"] == "out_of_scope"
    assert out[5]["subtopic"]["name"] == "hightech_certification"


def test_classify_survives_invalid_utf8(settings, model_file):
    proc = subprocess.run([sys.executable, "-m", "bot.cli", "classify", "--model",
                           str(model_file)], input=b"\xff\xfe\xfa\n\xe4\xbd\xa0\xe5\xa5\xbd\n",
                          capture_output=True, cwd=settings.root, timeout=600)
    assert proc.returncode == 0
    assert len(proc.stdout.decode().splitlines()) == 2


def test_eval_json_on_a_test_file(settings, model_file, tmp_path):
    test = tmp_path / "t.yml"
    test.write_text(yaml.safe_dump({"version": 1, "examples": [
        {"text": "我们厂的过桥资金到期了银行不续贷", "intent": "report_need", "domain": "finance",
         "subtopic": "bridge_loan"},
        {"text": "你好", "intent": "greet", "domain": None, "subtopic": None}]},
        allow_unicode=True))
    proc = govbot(settings, "eval", "--test", str(test), "--json", "--model", str(model_file))
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for part in ("model", "baseline"):
        assert result[part]["n"] == 2
        for key in ("intent_accuracy", "domain_accuracy", "domain_macro_f1",
                    "subtopic_accuracy"):
            assert 0 <= result[part][key] <= 1
    # the figures are the model's real scores (both messages are plain; the held-out sets'
    # targets are tests/test_nlu_targets.py)
    assert (result["model"]["intent_accuracy"], result["model"]["domain_accuracy"],
            result["model"]["subtopic_accuracy"]) == (1.0, 1.0, 1.0)


def test_eval_rejects_a_malformed_test_file_naming_it(settings, model_file, tmp_path):
    bad = tmp_path / "bad.yml"
    bad.write_text("version: 1\nexamples:\n  - {text: 你好, intent: greet, domain: nosuch}\n")
    proc = govbot(settings, "eval", "--test", str(bad), "--model", str(model_file))
    assert proc.returncode == 2
    assert "bad.yml" in proc.stderr and "nosuch" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_model_file_is_a_clear_error(settings, tmp_path):
    proc = govbot(settings, "classify", "--model", str(tmp_path / "none.tar.gz"), stdin="你好\n")
    assert proc.returncode == 2 and "none.tar.gz" in proc.stderr
