"""The learning loop of the NLU: corrections of a message's category.

An agent who changes the recognised domain or sub-topic in the console, and a user who
answers 类别不对 and picks the right category in the chat, both leave a correction: the
message, what the model said, what the person chose. An administrator accepts or rejects
each one on the dashboard. ``govbot train --with-corrections`` writes the accepted ones
into ``data/nlu/corrections.yml`` (Rasa's NLU format, written by the YAML library; mobiles
and ID numbers masked) and trains; ``govbot eval`` then shows the model before and after.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.engine import Engine

from bot.db.schema import nlu_corrections
from bot.examples import DEMAND_INTENTS, Example, dump_rasa_nlu, rasa_nlu_data
from bot.masking import mask_text
from bot.taxonomy import taxonomy
from bot.text import comparison_key

logger = logging.getLogger(__name__)

SOURCES = ("agent", "user")
MAX_TEXT = 2000
HEADER = ("# Corrections of the recognised category, accepted by an administrator on the\n"
          "# dashboard and written here by `govbot train --with-corrections`. Texts are\n"
          "# masked (mobiles, ID numbers). Edit like any other training file.\n")


class CorrectionError(ValueError):
    """A correction that cannot be stored (unknown category, empty text)."""


def record(engine: Engine, *, text: str, intent: str, predicted: tuple[str | None, str | None],
           chosen: tuple[str, str], source: str, username: str) -> int | None:
    """Store one correction; ``None`` when the choice equals the prediction (nothing to
    learn). Raises CorrectionError for a category outside the taxonomy."""
    domain, subtopic = chosen
    tax = taxonomy()
    if subtopic not in tax.subtopics or tax.domain_of(subtopic) != domain:
        raise CorrectionError(f"unknown category {domain}/{subtopic}")
    if source not in SOURCES:
        raise CorrectionError(f"unknown correction source {source!r}")
    text = " ".join(str(text or "").split())[:MAX_TEXT]
    if not text:
        raise CorrectionError("a correction needs the message text")
    if tuple(predicted) == (domain, subtopic):
        return None
    with engine.begin() as conn:
        return conn.execute(insert(nlu_corrections).values(
            at=datetime.now(timezone.utc), username=username[:64], text=text,
            intent=intent if intent in DEMAND_INTENTS else "report_need",
            predicted_domain=predicted[0], predicted_subtopic=predicted[1],
            domain=domain, subtopic=subtopic, source=source, status="pending",
        )).inserted_primary_key[0]


def listing(engine: Engine, status: str = "pending", limit: int = 200) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        rows = conn.execute(select(nlu_corrections).where(nlu_corrections.c.status == status)
                            .order_by(nlu_corrections.c.id).limit(limit)).mappings().all()
    return [dict(r) for r in rows]


def decide(engine: Engine, correction_id: int, accept: bool, reviewer: str) -> bool:
    """Accept or reject a pending correction; False when it is not pending (any more)."""
    with engine.begin() as conn:
        done = conn.execute(
            update(nlu_corrections)
            .where(nlu_corrections.c.id == correction_id,
                   nlu_corrections.c.status == "pending")
            .values(status="accepted" if accept else "rejected", decided_by=reviewer[:64],
                    decided_at=datetime.now(timezone.utc)))
    return done.rowcount == 1


def accepted(engine: Engine) -> list[dict[str, Any]]:
    return listing(engine, "accepted", limit=1_000_000)


def _one_line(text: str) -> str:
    """A training line: masked, on one line, without Rasa's entity-markup brackets."""
    text = mask_text(" ".join(text.split()))
    return text.translate(str.maketrans("[](){}", "【】（）｛｝"))


def training_data(rows: Iterable[dict[str, Any]], exclude: Iterable[str] = ()) -> dict:
    """Rasa NLU training data (one block per intent and sub-topic) from corrections.
    Texts whose normalised form is in ``exclude`` (held-out sets) are left out, and a
    text corrected twice keeps its latest label."""
    skip = {comparison_key(t) for t in exclude}
    latest: dict[str, Example] = {}
    tax = taxonomy()
    for r in rows:
        line = _one_line(r["text"])
        key = comparison_key(line)
        if key and key not in skip:
            latest.pop(key, None)
            latest[key] = Example(line, r["intent"], tax.domain_of(r["subtopic"]),
                                  r["subtopic"])
    return rasa_nlu_data(sorted(latest.values(), key=lambda e: (e.intent, e.subtopic)))


def dump(data: dict) -> str:
    return dump_rasa_nlu(data, HEADER)


def write_training_file(path: Path, rows: Iterable[dict[str, Any]],
                        exclude: Iterable[str] = ()) -> int:
    """Write the accepted corrections as a training file; returns the example count."""
    data = training_data(rows, exclude)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(dump(data), encoding="utf-8")
    tmp.replace(path)
    n = sum(b["examples"].count("\n") for b in data["nlu"])
    logger.info("Wrote %d accepted corrections to %s", n, path)
    return n
