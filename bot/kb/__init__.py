"""The policy knowledge base: documents, chunks, a SQLite FTS5 index, retrieval, matching."""
