"""The training data meets the project's own rules (data/nlu/README.md)."""

import collections
import re
import subprocess
import sys

import pytest

from bot.examples import load_test_file, load_training_examples, split_validation
from bot.taxonomy import taxonomy
from bot.text import comparison_key, to_simplified

MIN_PER_LABEL = 25
CONTRACT_INTENTS = {"report_need", "ask_policy", "greet", "goodbye", "thank", "affirm", "deny",
                    "ask_ticket_status", "urge_ticket", "rate_service", "request_human",
                    "out_of_scope"}


@pytest.fixture(scope="module")
def train(settings):
    return load_training_examples(settings.training_files())


@pytest.fixture(scope="module")
def every_heldout(settings):
    """Both held-out sets: the project's and the real-style one (issue 15)."""
    return {p.name: load_test_file(p) for p in settings.heldout_files}


def test_every_subtopic_has_enough_examples(train):
    counts = collections.Counter(e.subtopic for e in train if e.subtopic)
    thin = {s: counts[s] for s in taxonomy().subtopics if counts[s] < MIN_PER_LABEL}
    assert thin == {}


def test_every_intent_has_enough_examples(train):
    counts = collections.Counter(e.intent for e in train)
    assert CONTRACT_INTENTS <= set(counts)
    assert {i: n for i, n in counts.items() if n < MIN_PER_LABEL} == {}


def test_demand_intents_carry_a_subtopic_and_others_do_not(train):
    for e in train:
        assert (e.subtopic is not None) == (e.intent in ("report_need", "ask_policy")), e


def test_heldout_sets_can_measure_every_subtopic(every_heldout):
    """Together the held-out sets hold enough to measure each sub-topic (≥ 5 demands)."""
    examples = [e for ex in every_heldout.values() for e in ex]
    assert len(examples) >= 1200
    counts = collections.Counter(e.subtopic for e in examples if e.subtopic)
    assert {s: counts[s] for s in taxonomy().subtopics if counts[s] < 5} == {}


def test_heldout_covers_every_subtopic_and_intent(every_heldout):
    real = every_heldout["real.yml"]
    assert len(real) >= 500
    for examples in every_heldout.values():
        assert CONTRACT_INTENTS <= {e.intent for e in examples}
    # the project's file predates the basic-service sub-topics; the real-style set has all
    assert {e.subtopic for e in real if e.subtopic} == set(taxonomy().subtopics)


def test_no_heldout_text_is_trained_on(train, every_heldout):
    """Compared as overlap checks must: case, punctuation, width and Traditional or
    Simplified set aside."""
    seen = {comparison_key(e.text) for e in train}
    for name, examples in every_heldout.items():
        assert [e.text for e in examples if comparison_key(e.text) in seen] == [], name


def test_the_heldout_sets_do_not_share_texts(every_heldout):
    project, real = every_heldout["test.yml"], every_heldout["real.yml"]
    keys = {comparison_key(e.text) for e in project}
    assert [e.text for e in real if comparison_key(e.text) in keys] == []


def test_the_validation_split_is_a_stable_fifth(train):
    fit, validation = split_validation(train)
    assert 0.15 < len(validation) / len(train) < 0.25
    assert {comparison_key(e.text) for e in fit}.isdisjoint(
        comparison_key(e.text) for e in validation)
    assert split_validation(list(reversed(train)))[1] == list(reversed(validation))
    assert set(taxonomy().subtopics) <= {e.subtopic for e in validation}


def test_no_text_has_two_labels(train):
    labels = collections.defaultdict(set)
    for e in train:
        labels[comparison_key(e.text)].add((e.intent, e.subtopic))
    assert {t: ls for t, ls in labels.items() if len(ls) > 1} == {}


def test_register_variety(train):
    """Real users write in Traditional characters too, and long complaints."""
    demand = [e.text for e in train if e.subtopic]
    traditional = sum(to_simplified(t) != t for t in demand)
    assert traditional / len(demand) > 0.05
    assert sum(len(t) >= 60 for t in demand) / len(demand) > 0.05


def test_user_dictionary_format():
    from bot.resources import USER_DICT_FILE

    lines = USER_DICT_FILE.read_text(encoding="utf-8").splitlines()
    words = [line.split()[0] for line in lines]
    assert len(lines) >= 300 and len(set(words)) == len(words)
    for w in ("专精特新", "研发费用加计扣除", "标准地", "过桥资金", "首台套", "出口退税",
              "统一社会信用代码"):
        assert w in words
    assert all(len(line.split()) in (1, 2, 3) for line in lines)


def test_rasa_data_validate_passes(settings):
    proc = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate", "--data", "data/nlu", "data/rules"],
        cwd=settings.root, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    # The only warnings allowed: responses sent by custom actions, by Rasa's own fallback,
    # or asked by the forms (utter_ask_<slot>); intents only buttons and the department
    # API send (never typed, so without examples).
    allowed = {"utter_empty_message", "utter_out_of_scope", "utter_default",
               "utter_ask_company", "utter_ask_credit_code", "utter_ask_region",
               "utter_ask_contact_name", "utter_ask_mobile", "utter_ask_mobile_tail",
               "utter_ask_enterprise_size", "utter_ask_qualifications",
               "utter_human_handoff", "utter_no_ticket"}
    untyped = {"choose_domain", "kb_feedback", "inform_region", "EXTERNAL_ticket_update",
               "EXTERNAL_handoff_closed"}
    out = proc.stdout + proc.stderr
    assert set(re.findall(r"The utterance '(\w+)' is not used", out)) <= allowed
    assert set(re.findall(r"The intent '(\w+)' is listed in the domain file, but is not "
                          r"found", out)) <= untyped
    rest = re.sub(r".*(The utterance '\w+' is not used|The intent '\w+' is listed in the "
                  r"domain file).*", "", out)
    assert "UserWarning" not in rest
