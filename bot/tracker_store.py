"""Conversations in a SQLite file for the embedded default (one machine, one Rasa
process): Rasa's SQL tracker store, with

* SQLite in write-ahead-log mode, pooled (``bot/sqlite.py``): a turn's commit appends
  to the log; a crash of the process loses nothing (a power cut may lose the last turns;
  what was submitted is in the ticket database);
* a write-through cache of the recent conversations: a turn gets the conversation
  object the previous turn saved and only appends its new events to the file — no
  query, no replay or JSON of every past event, no count of stored events. An object
  that gained events it did not save (a turn that failed half-way) is not reused: the
  conversation is read again from the file. After a restart the first message of a
  conversation reads it from the file.

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
from sqlalchemy import insert
from sqlalchemy.orm import sessionmaker

from bot.sqlite import file_engine

#: conversations kept as live objects (about 100 KB each); older ones are read from the file
CACHED_CONVERSATIONS = 256


class SqliteTrackerStore(SQLTrackerStore):
    def __init__(self, domain: Any = None, db: str = "conversations.db",
                 event_broker: Any = None, **kwargs: Any) -> None:
        kwargs.pop("host", None)  # Rasa passes the endpoint's url as host
        super().__init__(domain, dialect="sqlite", db=db, event_broker=event_broker, **kwargs)
        self.engine.dispose()
        self.engine = file_engine(str(self.engine.url))  # WAL, pooled (bot/sqlite.py)
        self.sessionmaker = sessionmaker(bind=self.engine)
        self.cached = int(os.environ.get("SANIC_WORKERS") or 1) <= 1
        #: sender → (the tracker as last saved, how many of its events are stored)
        self._recent: OrderedDict[str, tuple[DialogueStateTracker, int]] = OrderedDict()

    def _remember(self, tracker: DialogueStateTracker) -> None:
        self._recent[tracker.sender_id] = (tracker, len(tracker.events))
        self._recent.move_to_end(tracker.sender_id)
        while len(self._recent) > CACHED_CONVERSATIONS:
            self._recent.popitem(last=False)

    def _reusable(self, sender_id: str) -> DialogueStateTracker | None:
        """The cached tracker if it holds exactly the stored events (a turn that failed
        half-way leaves events that were never saved: read the file again)."""
        tracker, stored = self._recent.get(sender_id, (None, None))
        if tracker is not None and len(tracker.events) != stored:
            del self._recent[sender_id]
            return None
        return tracker

    async def retrieve(self, sender_id: str) -> DialogueStateTracker | None:
        """What every turn asks for (the conversation's latest session)."""
        if self.cached and (cached := self._reusable(sender_id)) is not None:
            return cached
        tracker = await super().retrieve(sender_id)
        if tracker is not None and self.cached:
            self._remember(tracker)  # its events are the stored ones
        return tracker

    async def create_tracker(self, sender_id: str,
                             append_action_listen: bool = True) -> DialogueStateTracker:
        tracker = await super().create_tracker(sender_id, append_action_listen)
        if self.cached:
            self._remember(tracker)  # a new conversation, saved whole
        return tracker

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Append the events the tracker gained since this store handed it out."""
        cached, stored = self._recent.get(tracker.sender_id, (None, 0))
        if cached is not tracker or stored > len(tracker.events):
            # not the object this store handed out (a new conversation, one session of
            # a conversation, …): Rasa counts what is stored and appends the rest
            self._recent.pop(tracker.sender_id, None)
            await super().save(tracker)
            return
        new_events = list(itertools.islice(tracker.events, stored, None))
        if self.event_broker is not None:  # (Rasa's stream_events would diff the object
            # with itself: this store hands out the object it keeps)
            await self._stream_new_events(self.event_broker, new_events, tracker.sender_id)
        rows = []
        for e in new_events:
            data = e.as_dict()
            rows.append({"sender_id": tracker.sender_id, "type_name": e.type_name,
                         "timestamp": data.get("timestamp"), "action_name": data.get("name"),
                         "intent_name": data.get("parse_data", {}).get("intent", {}).get(
                             INTENT_NAME_KEY), "data": json.dumps(data)})
        if rows:  # one INSERT of the turn's rows (the ORM's unit of work costs more)
            with self.engine.begin() as connection:
                connection.execute(insert(self.SQLEvent.__table__), rows)
        self._remember(tracker)
