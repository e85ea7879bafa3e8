"""Scratch PostgreSQL databases for the tests and the benchmarks: a new, empty database
next to the one ``admin_url`` names, dropped afterwards."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

from sqlalchemy import create_engine, text


@contextlib.contextmanager
def scratch_postgres(admin_url: str, prefix: str = "govbot_test",
                     pre_ping: bool = False) -> Iterator[str]:
    """The URL of a new, empty database. ``pre_ping``: the administrating connection
    survives a restart of the server in between (the fault runs restart it)."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, future=True, isolation_level="AUTOCOMMIT",
                          pool_pre_ping=pre_ping)
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()
