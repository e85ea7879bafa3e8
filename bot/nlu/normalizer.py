"""First and last steps of the NLU pipeline: normalise the text, then restore it.

``TextNormalizer`` replaces the message text with its canonical form (Simplified
Chinese, half-width, clean whitespace, at most ``max_chars`` characters) so that
the tokenizer, featurizers and classifiers all see the same spelling of the same
word. ``OriginalTextRestorer`` puts the user's own text back at the end of the
pipeline, so that the parse result, the tracker and entity spans all refer to
what the user actually sent; the canonical form stays available as
``text_normalized``.

With ``emphasis_min_chars`` set, a long message (a letter, a story) gets the sentences
that say what it wants — those with a request word (恳请/希望/能否…), the one before
each, and the last — appended once more after its text, so that their words weigh more
than the company history in front of them. Entities are only read from the text itself.
"""

from __future__ import annotations

import logging
from typing import Any

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.dialogue import REQUEST_WORDS, sentences
from bot.nlu.base import StatelessComponent
from bot.text import DEFAULT_MAX_CHARS, Normalized, normalize

logger = logging.getLogger(__name__)

TEXT_ORIGINAL = "text_original"
TEXT_NORMALIZED = "text_normalized"
TEXT_TRUNCATED = "text_truncated"
_NORMALIZED = "_normalized"  # the Normalized object, internal to the pipeline


def emphasis(text: str) -> str:
    """The sentences of a long message that say what it wants (see module docstring)."""
    said = sentences(text)
    if len(said) < 2:
        return ""
    keep = {len(said) - 1}
    for i, sentence in enumerate(said):
        if REQUEST_WORDS.search(sentence):
            keep.update(j for j in (i - 1, i) if j >= 0)
    return "".join(said[i] for i in sorted(keep))


def normalized_of(message: Message) -> Normalized | None:
    """The normalisation record the ``TextNormalizer`` left on a message."""
    return message.get(_NORMALIZED)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=False
)
class TextNormalizer(StatelessComponent):
    """Traditional → Simplified, full-width → half-width, whitespace, length limit."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"max_chars": DEFAULT_MAX_CHARS, "emphasis_min_chars": 0}

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(config)
        self.max_chars = int(config["max_chars"])
        self.emphasis_min_chars = int(config.get("emphasis_min_chars") or 0)

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        for message in training_data.training_examples:
            self._normalize(message, output=False)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            self._normalize(message, output=True)
        return messages

    def _normalize(self, message: Message, output: bool) -> None:
        original = message.get(TEXT)
        if original is None:  # e.g. a training example that only has an intent
            return
        result = normalize(original, self.max_chars)
        if result.truncated:
            logger.info("Message of %d characters cut to %d before NLU.",
                        len(original), self.max_chars)
        text = result.text
        if self.emphasis_min_chars and len(text) >= self.emphasis_min_chars:
            text = f"{text} {emphasis(text)}".rstrip()
        message.set(TEXT, text)
        if output:  # training examples keep plain data only (Rasa fingerprints them)
            message.set(_NORMALIZED, result)
            message.set(TEXT_NORMALIZED, result.text, add_to_output=True)
            message.set(TEXT_TRUNCATED, result.truncated, add_to_output=True)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False
)
class OriginalTextRestorer(StatelessComponent):
    """Put the user's original text back after NLU (see module docstring)."""

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            record = normalized_of(message)
            if record is not None:
                message.set(TEXT, record.original)
                message.data.pop(_NORMALIZED, None)
        return messages
