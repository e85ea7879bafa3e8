"""Is the shown answer right? The last check before an answer is shown.

The no-answer model (bot.kb.refusal) judges whether the best *document* answers the
question. A user reads one short text, so this check judges the *answer*: does the text
hold the question's words and nouns, does it state the kind of fact asked (a figure for
"多少", a time limit for "多久"), is it from the section where that kind of fact lives —
together with the no-answer model's confidence. A logistic regression over these named
numbers gives the probability that the answer is right; it is fitted on the tuning
questions, whose ``facts`` say what a right answer states (``bench/kb_answer_check.py``
chooses the threshold by cross-validation and writes bot/resources/kb_answer_check.json),
and evaluated in plain Python.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.kb import tokens
from bot.kb.answer import ask_of

MODEL_FILE = Path(__file__).resolve().parent.parent / "resources" / "kb_answer_check.json"

#: the evidence, by name (what ``evidence`` returns and the model's weights are keyed on)
FEATURES = (
    "document_confidence",  # the no-answer model's confidence in the best document
    "answer_word_coverage",  # IDF-weighted share of the question's words in the answer
    "answer_nouns_lacking",  # share of the question's nouns the answer lacks
    "answer_terms_lacking",  # share of the question's glossary terms the answer lacks
    "states_asked_fact",  # the answer states the asked kind of fact (0.5: nothing asked)
    "section_fit",  # the answer's section holds the asked kind of fact (0.5: nothing asked)
    "answer_gram_coverage",  # share of the question's bigrams in the answer
    "passage_word_coverage",  # IDF-weighted share of the question's words in the passage
    "question_length",  # content words of the question / 10, at most 1
)


def evidence(question: tokens.Text, hit: dict[str, Any], weight: Callable[[str], float],
             lacking: Callable[[list[str], set[str], set[str]], int]) -> dict[str, float]:
    """The numbers of ``FEATURES`` for the hit's answer. ``weight`` is a word's IDF in the
    knowledge base; ``lacking(nouns, words, grams)`` counts the nouns a text lacks."""
    words = list(dict.fromkeys(question.words))
    shown = tokens.Text(f"{hit['section']} {hit['answer']}")
    shown_words, shown_grams = set(shown.words), set(shown.surface_grams)
    total = sum(weight(w) for w in words)
    nouns = list(dict.fromkeys(question.nouns))
    terms = question.terms
    ask = ask_of(question.clean)
    grams = set(question.grams)
    return {
        "document_confidence": float(hit.get("document_confidence", hit["confidence"])),
        "answer_word_coverage": sum(weight(w) for w in words if w in shown_words) / total
        if total else 0.0,
        "answer_nouns_lacking": lacking(nouns, shown_words, shown_grams) / len(nouns)
        if nouns else 0.0,
        "answer_terms_lacking": lacking(terms, shown_words, shown_grams) / len(terms)
        if terms else 0.0,
        "states_asked_fact": (1.0 if ask.states(hit["answer"]) else 0.0) if ask.kinds else 0.5,
        "section_fit": ask.section_fit(hit["section"]) if ask.kinds else 0.5,
        "answer_gram_coverage": len(grams & shown_grams) / len(grams) if grams else 0.0,
        "passage_word_coverage": float(hit["coverage"]),
        "question_length": min(1.0, len(words) / 10),
    }


@dataclass(frozen=True)
class AnswerCheck:
    weights: dict[str, float]
    intercept: float
    threshold: float  # below: no answer is shown

    def probability(self, x: dict[str, float]) -> float:
        z = self.intercept + sum(w * x[name] for name, w in self.weights.items())
        return 1 / (1 + math.exp(-z))

    @classmethod
    def load(cls, path: Path = MODEL_FILE) -> AnswerCheck:
        raw = json.loads(path.read_text(encoding="utf-8"))
        if tuple(raw["weights"]) != FEATURES:
            raise ValueError(f"{path}: fitted on other features; refit it with "
                             "uv run python bench/kb_answer_check.py --save")
        return cls(dict(raw["weights"]), float(raw["intercept"]), float(raw["threshold"]))
