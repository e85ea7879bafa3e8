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


VALIDATION_SHARE = 0.2


def is_validation(example: Example, share: float = VALIDATION_SHARE) -> bool:
    """Whether a training example belongs to the validation split: a fixed fifth of the
    training data, chosen by a hash of the text as overlap checks compare it, so that the
    same message in two spellings never lands on both sides. Every pipeline and parameter
    choice is made on this split (bench/nlu_variants.py); the held-out sets only report."""
    import hashlib

    from bot.text import comparison_key

    digest = hashlib.sha256(comparison_key(example.text).encode()).digest()
    return int.from_bytes(digest[:4], "big") / 2**32 < share


def split_validation(examples: list[Example], share: float = VALIDATION_SHARE
                     ) -> tuple[list[Example], list[Example]]:
    """(training part, validation part) of the training examples."""
    held = [is_validation(e, share) for e in examples]
    return ([e for e, v in zip(examples, held, strict=True) if not v],
            [e for e, v in zip(examples, held, strict=True) if v])


class _Literal(str):
    """Dumped as a YAML block literal (``examples: |``), as Rasa's files are written."""


class _RasaDumper(yaml.SafeDumper):
    pass


_RasaDumper.add_representer(
    _Literal, lambda dumper, value: dumper.represent_scalar("tag:yaml.org,2002:str", value,
                                                            style="|"))


def rasa_nlu_data(examples: list[Example]) -> dict:
    """Examples as Rasa NLU training data: one block per intent and sub-topic, in the order
    the examples come, each example on one line."""
    blocks: dict[tuple[str, str | None], list[str]] = {}
    for e in examples:
        blocks.setdefault((e.intent, e.subtopic), []).append(" ".join(e.text.split()))
    out = []
    for (intent, sub), texts in blocks.items():
        block: dict = {"intent": intent}
        if sub:
            block["metadata"] = {"subtopic": sub}
        block["examples"] = _Literal("".join(f"- {t}\n" for t in texts))
        out.append(block)
    return {"version": "3.1", "nlu": out}


def dump_rasa_nlu(data: dict, header: str = "") -> str:
    """``rasa_nlu_data``'s result as the YAML of a training file (written by the YAML
    library: no text can add keys or blocks), after ``header`` comment lines."""
    return header + yaml.dump(data, Dumper=_RasaDumper, allow_unicode=True, sort_keys=False,
                              width=100_000)
