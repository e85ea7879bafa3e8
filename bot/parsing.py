"""Loading a trained model once and parsing messages into the contract's JSON shape."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

FALLBACK_INTENT = "nlu_fallback"  # what Rasa's FallbackClassifier calls a low-confidence guess
OUT_OF_SCOPE = "out_of_scope"


def label_name(label: Any) -> str | None:
    """The ``name`` of a parse-result label such as ``{"name": "finance", …}``."""
    return label.get("name") if isinstance(label, dict) else None


def contract_view(text: str, parse: dict[str, Any]) -> dict[str, Any]:
    """The ``govbot classify`` object for one Rasa parse result (see CONTRACT.md §2).

    Rasa names low-confidence messages ``nlu_fallback`` so that dialogue rules can
    ask the user to rephrase; for the contract they are ``out_of_scope`` (nothing
    the assistant should act on), marked ``"fallback": true`` with the best guess.
    """
    intent = dict(parse.get("intent") or {"name": None, "confidence": 0.0})
    if intent.get("name") == FALLBACK_INTENT:
        ranking = parse.get("intent_ranking") or []
        guess = next((r for r in ranking if r.get("name") != FALLBACK_INTENT), None)
        intent = {"name": OUT_OF_SCOPE, "confidence": intent.get("confidence"),
                  "fallback": True, "best_guess": guess}
    empty = {"name": None, "confidence": None}
    # Rasa strips the message before NLU; shift entity spans back onto ``text``.
    lead = len(text) - len(text.lstrip())
    entities = [{**e, "start": e["start"] + lead, "end": e["end"] + lead}
                for e in parse.get("entities") or []]
    return {
        "text": text,
        "intent": intent,
        "domain": parse.get("domain") or dict(empty),
        "subtopic": parse.get("subtopic") or dict(empty),
        "domain_ranking": parse.get("domain_ranking") or [],
        "entities": entities,
    }


class NluParser:
    """A trained Rasa model, loaded once, parsing one message at a time (synchronously)."""

    def __init__(self, model_path: Path) -> None:
        from rasa.core.agent import Agent

        self._agent = Agent.load(str(model_path))
        self._loop = asyncio.new_event_loop()

    def parse_raw(self, text: str) -> dict[str, Any]:
        """Rasa's own parse result (as ``POST /model/parse`` returns it)."""
        return self._loop.run_until_complete(self._agent.parse_message(text))

    def parse(self, text: str) -> dict[str, Any]:
        return contract_view(text, self.parse_raw(text))

    def close(self) -> None:
        self._loop.close()
