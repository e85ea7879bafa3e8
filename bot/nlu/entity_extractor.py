"""Rasa wrapper around the rule-based extractor in ``bot.entities``."""

from __future__ import annotations

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.entities import extract_entities
from bot.nlu.base import StatelessComponent
from bot.nlu.normalizer import normalized_of


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False
)
class RuleEntityExtractor(StatelessComponent, EntityExtractorMixin):
    """Regions, amounts, dates, phones, credit codes, ID numbers and company names.

    Spans refer to the user's original text when the ``TextNormalizer`` ran first.
    """

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            record = normalized_of(message)
            found = []
            if record is not None:  # not the emphasised sentences appended after it
                text = text[:len(record.text)]
            for ent in extract_entities(text):
                start, end = record.original_span(ent.start, ent.end) if record else (
                    ent.start, ent.end)
                found.append({"entity": ent.entity, "start": start, "end": end,
                              "value": ent.value, "confidence": 1.0,
                              "extractor": self.__class__.__name__, **ent.extra})
            message.set(ENTITIES, message.get(ENTITIES, []) + found, add_to_output=True)
        return messages
