"""Cutting a document into passages an answer can quote: one per section, long sections
split at paragraph and sentence ends."""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.kb.documents import PolicyDocument

MAX_CHARS = 500
_HEADING = re.compile(r"^\s*#{1,6}\s+(.+?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[。！？；!?;])")


@dataclass(frozen=True)
class Chunk:
    doc_id: str
    seq: int
    section: str
    text: str


def _pieces(paragraphs: list[str], limit: int) -> list[str]:
    pieces, current = [], ""
    for para in paragraphs:
        parts = [para] if len(para) <= limit else [s for s in _SENTENCE_END.split(para) if s]
        for part in parts:
            while len(part) > limit:  # a sentence longer than the limit: hard cut
                pieces.append(part[:limit])
                part = part[limit:]
            if current and len(current) + len(part) + 1 > limit:
                pieces.append(current)
                current = ""
            current = f"{current}\n{part}" if current else part
    if current:
        pieces.append(current)
    return pieces


def chunk(doc: PolicyDocument, limit: int = MAX_CHARS) -> list[Chunk]:
    sections: list[tuple[str, list[str]]] = [("正文", [])]
    for line in doc.body.splitlines():
        heading = _HEADING.match(line)
        if heading:
            sections.append((heading.group(1).strip(), []))
        elif line.strip():
            sections[-1][1].append(line.strip())
    out: list[Chunk] = []
    for name, paragraphs in sections:
        for piece in _pieces(paragraphs, limit):
            out.append(Chunk(doc.id, len(out), name, piece))
    return out
