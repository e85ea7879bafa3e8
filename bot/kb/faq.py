"""Standard questions and answers (标准问答), the way hotline knowledge bases work.

An editor writes the answer to a question enterprises ask often, in a sentence or
three, citing the document and section it comes from, with the other ways people ask
it. A question that is close enough to one of those phrasings gets that answer before
any passage search. FAQ files are YAML files in the knowledge-base folder:

```yaml
version: 1
faq:
  - id: rd-deduction-ratio
    q: 研发费用加计扣除的比例是多少
    similar: [研发投入能多扣多少]
    a: 自2023年1月1日起，……按实际发生额的100%在税前加计扣除……
    doc: tech-rd-super-deduction-2023
    section: 支持标准
```
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from bot.kb import tokens
from bot.kb.answer import ask_of
from bot.kb.documents import ID_RE

#: where pairs approved in the console are written, inside the knowledge-base folder
APPROVED_FILE = Path("faq") / "approved.yml"
#: bigram similarity (Dice) from which a question counts as the FAQ's question; measured
#: with ``govbot kb eval`` (docs/knowledge_base.md)
MATCH_AT = 0.72


@dataclass(frozen=True)
class FaqEntry:
    id: str
    q: str
    similar: tuple[str, ...]
    a: str
    doc: str
    section: str
    source: str = ""

    @property
    def phrasings(self) -> tuple[str, ...]:
        return (self.q, *self.similar)


class FaqError(ValueError):
    pass


def find_faq_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()
                  and p.suffix.lower() in (".yml", ".yaml")
                  and not any(part.startswith(".") for part in p.relative_to(folder).parts))


def load_faq_file(path: Path, root: Path) -> tuple[list[FaqEntry], list[str]]:
    """The pairs of one file and the problems found (a bad pair is skipped, not fatal)."""
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        return [], [f"{path}: cannot read FAQ file ({str(exc).splitlines()[0]})"]
    if not isinstance(raw, dict) or not isinstance(raw.get("faq"), list):
        return [], [f"{path}: a FAQ file needs a list under 'faq:'"]
    entries, errors = [], []
    for i, item in enumerate(raw["faq"], start=1):
        try:
            entries.append(_entry(item, str(path.relative_to(root))))
        except FaqError as err:
            errors.append(f"{path}: pair {i}: {err}")
    return entries, errors


def _entry(item: Any, source: str) -> FaqEntry:
    if not isinstance(item, dict):
        raise FaqError("each pair needs id, q, a, doc and section")
    missing = [k for k in ("id", "q", "a", "doc") if not str(item.get(k) or "").strip()]
    if missing:
        raise FaqError(f"missing {', '.join(missing)}")
    faq_id = str(item["id"]).strip()
    if not ID_RE.match(faq_id):
        raise FaqError(f"id {faq_id!r} must be lowercase letters, digits, '-', '_' or '.'")
    similar = item.get("similar") or []
    if not isinstance(similar, list):
        raise FaqError("similar must be a list of questions")
    return FaqEntry(faq_id, str(item["q"]).strip(), tuple(str(s).strip() for s in similar
                                                          if str(s).strip()),
                    str(item["a"]).strip(), str(item["doc"]).strip(),
                    str(item.get("section") or "").strip(), source)


def _grams(text: str) -> frozenset[str]:
    return frozenset(tokens.Text(text).grams)


class FaqMatcher:
    """Finds the FAQ whose phrasing is closest to a question (character bigrams of the
    content words, Dice coefficient); the asked kind of fact must agree (the deadline
    question does not get the amount's answer)."""

    def __init__(self, entries: Iterable[FaqEntry]) -> None:
        self.entries = list(entries)
        self._phrasings = [(e, _grams(p), ask_of(p).main) for e in self.entries
                           for p in e.phrasings]

    def best(self, question: str) -> tuple[FaqEntry, float] | None:
        grams = _grams(question)
        if not grams or not self._phrasings:
            return None
        kind = ask_of(question).main
        best: tuple[FaqEntry, float] | None = None
        for entry, phrasing, phrasing_kind in self._phrasings:
            if not phrasing or phrasing_kind != kind:
                continue
            sim = 2 * len(grams & phrasing) / (len(grams) + len(phrasing))
            if best is None or sim > best[1]:
                best = (entry, sim)
        return best

    def match(self, question: str, at: float = MATCH_AT) -> FaqEntry | None:
        found = self.best(question)
        return found[0] if found and found[1] >= at else None


def append_approved(folder: Path, entry: FaqEntry) -> Path:
    """Add an approved pair to the knowledge-base folder's ``faq/approved.yml`` (written to
    a temporary file and renamed: never half-written)."""
    path = folder / APPROVED_FILE
    raw: dict[str, Any] = {"version": 1, "faq": []}
    if path.exists():
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or raw
    pairs = [p for p in raw.get("faq") or [] if p.get("id") != entry.id]
    pairs.append({"id": entry.id, "q": entry.q, "similar": list(entry.similar), "a": entry.a,
                  "doc": entry.doc, "section": entry.section})
    path.parent.mkdir(parents=True, exist_ok=True)
    text = ("# Standard questions approved in the govbot console (one per proposal).\n"
            + yaml.safe_dump({"version": 1, "faq": pairs}, allow_unicode=True,
                             sort_keys=False, width=100))
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".approved-", suffix=".yml")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)
    return path
