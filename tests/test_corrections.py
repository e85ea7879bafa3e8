"""The NLU learning loop (issue 15): corrections are stored, reviewed, and written as
training data with the YAML library — masked, never a held-out text, the latest label."""

import pytest
import yaml
from sqlalchemy import create_engine

from bot import corrections
from bot.db import migrate
from bot.examples import load_training_examples


@pytest.fixture()
def engine(tmp_path):
    eng = create_engine(f"sqlite:///{tmp_path / 'c.db'}")
    migrate.upgrade(eng)
    yield eng
    eng.dispose()


def record(engine, text, chosen=("legal", "contract_debt"), predicted=("finance", "loan_financing"),
           source="user"):
    return corrections.record(engine, text=text, intent="report_need", predicted=predicted,
                              chosen=chosen, source=source, username="rest")


def test_a_correction_waits_for_review_and_is_decided_once(engine):
    first = record(engine, "货款拖欠半年了，对方一直不给")
    assert record(engine, "过桥资金到期", chosen=("finance", "bridge_loan"),
                  predicted=("finance", "bridge_loan")) is None  # nothing to learn
    (row,) = corrections.listing(engine)
    assert (row["id"], row["source"], row["status"]) == (first, "user", "pending")
    assert corrections.decide(engine, first, True, "admin")
    assert not corrections.decide(engine, first, False, "admin")
    assert corrections.listing(engine) == [] and len(corrections.accepted(engine)) == 1


def test_unknown_categories_and_empty_texts_are_refused(engine):
    with pytest.raises(corrections.CorrectionError):
        record(engine, "货款拖欠", chosen=("legal", "bridge_loan"))
    with pytest.raises(corrections.CorrectionError):
        record(engine, "   ")
    with pytest.raises(corrections.CorrectionError):
        record(engine, "货款拖欠", source="robot")
    assert corrections.listing(engine) == []


def test_training_file_is_rasa_data_masked_without_heldout_texts(engine, tmp_path):
    for text, chosen in (
            ("货款拖欠半年了，联系我13905701234", ("legal", "contract_debt")),
            ("營業執照地址變更辦不了", ("other", "general_inquiry")),
            ("营业执照地址变更办不了！", ("other", "business_registration")),  # later label wins
            ("过桥资金到期银行不续贷", ("legal", "contract_debt")),
            ("[注入](intent) 发票开不出来", ("other", "tax_service"))):
        corrections.decide(engine, record(engine, text, chosen=chosen), True, "admin")
    path = tmp_path / "nlu" / "corrections.yml"
    n = corrections.write_training_file(path, corrections.accepted(engine),
                                        exclude=["过桥资金到期，银行不续贷"])
    assert n == 3
    text = path.read_text(encoding="utf-8")
    assert "13905701234" not in text and "139****1234" in text
    assert yaml.safe_load(text)["version"] == "3.1"
    examples = {(e.text, e.subtopic) for e in load_training_examples([path])}
    assert examples == {("货款拖欠半年了，联系我139****1234", "contract_debt"),
                        ("营业执照地址变更办不了！", "business_registration"),
                        ("【注入】（intent） 发票开不出来", "tax_service")}


def test_train_with_corrections_writes_the_accepted_ones_and_keeps_the_old_model(
        settings, tmp_path, capsys):
    """`govbot train --with-corrections`, its first half: the file and the kept model."""
    from dataclasses import replace

    from bot.cli import _write_corrections, before_corrections_model
    from bot.db.engine import database_engine

    root = tmp_path / "project"
    (root / "data/nlu/heldout").mkdir(parents=True)
    (root / "data/nlu/heldout/test.yml").write_text(
        "version: 1\nexamples:\n  - {text: 货款拖欠, intent: report_need, domain: legal, "
        "subtopic: contract_debt}\n", encoding="utf-8")
    (root / "models").mkdir()
    (root / "models/govbot.tar.gz").write_bytes(b"old model")
    local = replace(settings, root=root, database_url="", var=str(root / "var"))
    engine = database_engine(local)
    for text in ("货款拖欠", "发票领不到，税务说要先补申报"):
        corrections.decide(engine, record(engine, text, chosen=("other", "tax_service")),
                           True, "admin")
    record(engine, "还没审核的纠正")  # pending: not training data
    engine.dispose()
    _write_corrections(local)
    examples = load_training_examples([local.corrections_file])
    assert [(e.text, e.subtopic) for e in examples] == [("发票领不到，税务说要先补申报",
                                                         "tax_service")]
    assert before_corrections_model(local).read_bytes() == b"old model"
    assert "1 accepted corrections" in capsys.readouterr().out
    (root / "models/govbot.tar.gz").write_bytes(b"new model")
    _write_corrections(local)  # nothing new: the kept model is not overwritten
    assert before_corrections_model(local).read_bytes() == b"old model"


def test_the_eval_report_shows_the_model_before_and_after_the_corrections():
    from bot.evaluation import markdown_report

    def scores(intent, domain):
        return {"intent_accuracy": intent, "intent_macro_f1": intent, "domain_accuracy": domain,
                "domain_macro_f1": domain, "subtopic_accuracy": domain,
                "subtopic_macro_f1": domain, "null_accuracy": 1.0, "null_precision": 1.0,
                "n": 10, "per_domain": {}, "confusion": {"labels": [], "matrix": []}}

    report = markdown_report({
        "test_file": "t.yml", "n_train": 5, "model_file": "m", "model": scores(0.9, 0.8),
        "baseline": scores(0.7, 0.6), "before_corrections": scores(0.85, 0.75),
        "corrections": {"n": 2, "before": scores(0.5, 0.0), "after": scores(1.0, 1.0)}})
    assert "## Effect of the accepted corrections" in report
    assert "| domain_accuracy | 0.750 | 0.800 | 0.000 | 1.000 |" in report
    assert "| domain_macro_f1 | 0.750 | 0.800 | – | – |" in report
