"""The knowledge base's file: one SQLite database with the documents, their passages and
two FTS5 indexes over the passages (``words``: jieba words; ``grams``: character bigrams),
the passages per term of each, and the standard questions."""

from __future__ import annotations

import sqlite3
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY, source TEXT NOT NULL, hash TEXT NOT NULL, meta TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    rowid INTEGER PRIMARY KEY, doc_id TEXT NOT NULL REFERENCES documents(id),
    seq INTEGER NOT NULL, section TEXT NOT NULL, text TEXT NOT NULL, words TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_doc ON chunks(doc_id);
CREATE VIRTUAL TABLE IF NOT EXISTS words USING fts5(t, tokenize='unicode61');
CREATE VIRTUAL TABLE IF NOT EXISTS grams USING fts5(t, tokenize='unicode61');
CREATE TABLE IF NOT EXISTS terms (term TEXT PRIMARY KEY, df INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS gram_df (term TEXT PRIMARY KEY, df INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS info (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS faq (
    id TEXT PRIMARY KEY, doc_id TEXT NOT NULL, section TEXT NOT NULL, q TEXT NOT NULL,
    similar TEXT NOT NULL, a TEXT NOT NULL, source TEXT NOT NULL);
"""
INDEX_FILE = "index.sqlite3"


def kb_file(path: Path) -> Path:
    """``--kb PATH`` is a folder holding the index (created if missing)."""
    return path / INDEX_FILE


def connect(path: Path, create: bool = False) -> sqlite3.Connection:
    """The index in folder ``path``; FileNotFoundError when there is none and ``create``
    is not set."""
    file = kb_file(path)
    if not file.exists() and not create:
        raise FileNotFoundError(f"no knowledge base at {path} (run: govbot kb ingest DIR "
                                f"--kb {path})")
    path.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(file, check_same_thread=False)
    db.executescript(SCHEMA)
    return db
