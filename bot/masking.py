"""Masking personal numbers — mobiles, ID numbers, unified social credit codes — in free
text (exports, statistics, corrections) and in every log record of a process."""

from __future__ import annotations

import logging
import re
import threading
from typing import Any

_NUMBERS = {"phone", "id_number", "credit_code"}
_MAYBE = re.compile(r"\d{7}")  # every number worth masking has seven digits in a row
_inside = threading.local()  # a record logged while masking another is left alone


def mask_text(text: Any) -> Any:
    """A free text with the mobiles, ID numbers and credit codes in it masked
    (139****1234, 3308**********1234)."""
    if not isinstance(text, str) or not text:
        return text
    from bot.entities import extract_entities

    for ent in reversed(extract_entities(text)):
        if ent.entity in _NUMBERS:
            value = text[ent.start:ent.end]
            keep = 3 if ent.entity == "phone" else 4
            hidden = value[:keep] + "*" * max(len(value) - keep - 4, 4) + value[-4:]
            text = text[:ent.start] + hidden + text[ent.end:]
    return text


def install_log_masking() -> None:
    """Mask personal numbers in every log record this process creates — ours, Rasa's
    (its structlog output goes through the standard library too), rasa_sdk's, aiohttp's,
    SQLAlchemy's — whatever logger or handler it goes to. Idempotent."""
    make = logging.getLogRecordFactory()
    if getattr(make, "masks_personal_data", False):
        return

    def masked_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is logging's own problem
            return record
        if _MAYBE.search(message) and not getattr(_inside, "masking", False):
            _inside.masking = True
            try:
                masked = mask_text(message)
            finally:
                _inside.masking = False
            if masked != message:
                record.msg, record.args = masked, None
        return record

    masked_record.masks_personal_data = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(masked_record)
