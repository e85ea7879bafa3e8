"""Conversations in a SQLite file for the embedded default (one machine, one Rasa
process): Rasa's SQL tracker store, with

* SQLite in write-ahead-log mode with ``synchronous=NORMAL``: a turn's commit appends to
  the log; a crash of the process loses nothing (a power cut may lose the last turns;
  what was submitted is in the ticket database);
* a write-through cache of the recent conversations, as Rasa's in-memory store keeps
  them: a turn reads its conversation from memory and only appends its new events to
  the file — no query, no JSON of every past event, no count of stored events. After a
  restart the first message of a conversation reads it from the file.

The cache is used only when this process is the file's only writer (one Sanic worker);
with ``SANIC_WORKERS`` above 1 every turn reads the file, as Rasa's own store does.
"""

from __future__ import annotations

import itertools
import json
import os
from collections import OrderedDict
from typing import Any

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT_NAME_KEY
from sqlalchemy import create_engine, event
from sqlalchemy.orm import sessionmaker
from sqlalchemy.pool import QueuePool

CACHED_CONVERSATIONS = 2000


def _tune(connection: Any, _record: Any) -> None:
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class SqliteTrackerStore(SQLTrackerStore):
    def __init__(self, domain: Any = None, db: str = "conversations.db",
                 event_broker: Any = None, **kwargs: Any) -> None:
        kwargs.pop("host", None)  # Rasa passes the endpoint's url as host
        super().__init__(domain, dialect="sqlite", db=db, event_broker=event_broker, **kwargs)
        # SQLAlchemy 1.4 opens (and tunes) a new SQLite connection for every session of a
        # file database; a small pool keeps them open (profiled: 6 % of a turn)
        self.engine.dispose()
        self.engine = create_engine(self.engine.url, poolclass=QueuePool, pool_size=2,
                                    connect_args={"check_same_thread": False})
        event.listen(self.engine, "connect", _tune)
        self.sessionmaker = sessionmaker(bind=self.engine)
        self.cached = int(os.environ.get("SANIC_WORKERS") or 1) <= 1
        #: sender → (the tracker as last saved, serialised; how many of its events are stored)
        self._recent: OrderedDict[str, tuple[str, int]] = OrderedDict()

    def _remember(self, tracker: DialogueStateTracker) -> None:
        self._recent[tracker.sender_id] = (self.serialise_tracker(tracker),
                                           len(tracker.events))
        self._recent.move_to_end(tracker.sender_id)
        while len(self._recent) > CACHED_CONVERSATIONS:
            self._recent.popitem(last=False)

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        if self.cached and sender_id in self._recent:
            return self.deserialise_tracker(sender_id, self._recent[sender_id][0])
        tracker = await super().retrieve(sender_id)
        if tracker is not None and self.cached:
            self._remember(tracker)  # its events are the stored ones
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        stored = self._recent.get(tracker.sender_id, (None, None))[1] if self.cached else None
        if stored is None or stored > len(tracker.events):
            await super().save(tracker)  # Rasa counts what is stored
        else:
            await self.stream_events(tracker)
            with self.session_scope() as session:
                for e in itertools.islice(tracker.events, stored, None):
                    data = e.as_dict()
                    session.add(self.SQLEvent(
                        sender_id=tracker.sender_id, type_name=e.type_name,
                        timestamp=data.get("timestamp"), action_name=data.get("name"),
                        intent_name=data.get("parse_data", {}).get("intent", {}).get(
                            INTENT_NAME_KEY), data=json.dumps(data)))
                session.commit()
        if self.cached:
            self._remember(tracker)
