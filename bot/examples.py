"""Labelled examples: reading the NLU test format and the Rasa training files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.taxonomy import Taxonomy, taxonomy

DEMAND_INTENTS = ("report_need", "ask_policy")


class ExampleFileError(ValueError):
    """A test or training file cannot be used; the message names the file and entry."""


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    domain: str | None
    subtopic: str | None


@dataclass(frozen=True)
class Prediction:
    intent: str | None
    domain: str | None
    subtopic: str | None


def _check(ex: Example, where: str, tax: Taxonomy) -> None:
    if not ex.intent:
        raise ExampleFileError(f"{where}: missing intent")
    if ex.domain is not None and ex.domain not in tax.domains:
        raise ExampleFileError(f"{where}: unknown domain {ex.domain!r}")
    if ex.subtopic is not None:
        if ex.subtopic not in tax.subtopics:
            raise ExampleFileError(f"{where}: unknown sub-topic {ex.subtopic!r}")
        if tax.domain_of(ex.subtopic) != ex.domain:
            raise ExampleFileError(
                f"{where}: sub-topic {ex.subtopic!r} belongs to domain "
                f"{tax.domain_of(ex.subtopic)!r}, not {ex.domain!r}")


def load_test_file(path: Path) -> list[Example]:
    """Read a file in the contract's *NLU test format* (``version: 1``, ``examples:``)."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ExampleFileError(f"{path}: cannot read ({exc})") from exc
    if not isinstance(raw, dict) or not isinstance(raw.get("examples"), list):
        raise ExampleFileError(f"{path}: expected a mapping with an 'examples' list")
    tax = taxonomy()
    examples = []
    for i, item in enumerate(raw["examples"], start=1):
        where = f"{path}: example {i}"
        if not isinstance(item, dict) or "text" not in item:
            raise ExampleFileError(f"{where}: expected {{text, intent, domain, subtopic}}")
        ex = Example(str(item["text"] if item["text"] is not None else ""),
                     str(item.get("intent") or ""), item.get("domain"), item.get("subtopic"))
        _check(ex, where, tax)
        examples.append(ex)
    return examples


def load_training_examples(files: list[Path]) -> list[Example]:
    """Intent examples of Rasa NLU training files, with domain and sub-topic labels."""
    from rasa.shared.data import is_nlu_file
    from rasa.shared.nlu.training_data.loading import load_data

    tax = taxonomy()
    examples = []
    for path in files:
        if not is_nlu_file(str(path)):
            continue  # rules and stories
        data = load_data(str(path), language="zh")
        for msg in data.intent_examples:
            meta = (msg.get("metadata") or {}).get("intent") or {}
            sub = meta.get("subtopic") if isinstance(meta, dict) else None
            ex = Example(msg.get("text"), msg.get("intent"),
                         tax.domain_of(sub) if sub in tax.subtopics else None, sub)
            _check(ex, f"{path}: {ex.text[:20]!r}", tax)
            examples.append(ex)
    return examples
