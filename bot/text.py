"""Text normalisation shared by the NLU pipeline and (later) the knowledge base.

Users write in Simplified and Traditional Chinese, type full-width letters and
digits on phone keyboards, and paste text with tabs, line breaks and invisible
control characters. ``normalize`` turns all of that into one canonical form and
keeps a map back to the original characters, so that entity spans can be
reported in the text the user actually sent.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from functools import lru_cache

#: Messages longer than this (after normalisation) are cut before NLU. Long
#: complaints run to a few hundred characters; anything longer is usually a
#: pasted document, and its first part says what it is about.
DEFAULT_MAX_CHARS = 5000

_FULLWIDTH_START, _FULLWIDTH_END, _FULLWIDTH_SHIFT = 0xFF01, 0xFF5E, 0xFEE0


@dataclass(frozen=True)
class Normalized:
    """A normalised text and, for each of its characters, the index in the original."""

    text: str
    original: str
    offsets: tuple[int, ...]
    truncated: bool = False

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """Map a ``[start, end)`` span of ``text`` to a span of ``original``."""
        if end <= start:
            pos = self.offsets[start] if start < len(self.offsets) else len(self.original)
            return pos, pos
        return self.offsets[start], self.offsets[end - 1] + 1


@lru_cache(maxsize=1)
def _t2s():
    import opencc

    return opencc.OpenCC("t2s.json")


def to_simplified(text: str) -> str:
    """Traditional → Simplified Chinese, keeping one output character per input character."""
    converter = _t2s()
    converted = converter.convert(text)
    if len(converted) == len(text):
        return converted
    # A phrase rule changed the length; convert character by character instead so
    # that offsets stay aligned (rare, and still correct for almost every character).
    out = []
    for ch in text:
        c = converter.convert(ch)
        out.append(c if len(c) == 1 else ch)
    return "".join(out)


def _fold_char(ch: str) -> str:
    """Full-width → half-width; whitespace → space; other control characters → ''."""
    code = ord(ch)
    if _FULLWIDTH_START <= code <= _FULLWIDTH_END:
        return chr(code - _FULLWIDTH_SHIFT)
    if ch.isspace():
        return " "
    if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn"):
        return ""
    return ch


def normalize(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> Normalized:
    """Canonical form of a user message (see module docstring)."""
    chars: list[str] = []
    offsets: list[int] = []
    for i, ch in enumerate(text or ""):
        folded = _fold_char(ch)
        if not folded:
            continue
        if folded == " " and (not chars or chars[-1] == " "):
            continue  # collapse runs of whitespace, drop leading whitespace
        chars.append(folded)
        offsets.append(i)
    while chars and chars[-1] == " ":
        chars.pop()
        offsets.pop()
    truncated = len(chars) > max_chars
    if truncated:
        del chars[max_chars:], offsets[max_chars:]
        while chars and chars[-1] == " ":
            chars.pop()
            offsets.pop()
    return Normalized(to_simplified("".join(chars)), text or "", tuple(offsets), truncated)


def has_words(text: str) -> bool:
    """True when the text holds at least one letter, digit or Chinese character."""
    return any(ch.isalnum() for ch in text)


def comparison_key(text: str) -> str:
    """The text as overlap checks compare it: normalised (Simplified, half-width), lower
    case, without punctuation, symbols or spaces — "營業執照咋辦？" and "营业执照咋办" are
    the same message."""
    return "".join(ch for ch in normalize(text).text.lower()
                   if unicodedata.category(ch)[0] not in "PSZ")
