"""The embedded default's conversation store: what a turn saves is in the file exactly
once, and a new process (a restart) reads the conversation back as it was."""

import sqlite3

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import SqliteTrackerStore


def rows(db) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]


async def test_turns_are_appended_once_and_survive_a_restart(tmp_path):
    db = str(tmp_path / "conversations.db")
    domain = Domain.from_dict({"slots": {"company": {"type": "text", "mappings": [
        {"type": "custom"}]}}})
    store = SqliteTrackerStore(domain, db=db)
    tracker = DialogueStateTracker("s1", domain.slots)
    tracker.update(UserUttered("我们厂贷款到期了"))
    tracker.update(BotUttered("需要为您登记吗？"))
    await store.save(tracker)
    for turn in range(3):  # each turn: read (from memory), add, save
        tracker = await store.retrieve("s1")
        tracker.update(UserUttered(f"第{turn}轮"))
        tracker.update(SlotSet("company", "龙游县恒丰纸业有限公司"))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)
    assert rows(db) == len(tracker.events) == 11

    restarted = SqliteTrackerStore(domain, db=db)  # a new process: nothing in memory
    again = await restarted.retrieve("s1")
    assert [e.as_dict()["event"] for e in again.events] == [
        e.as_dict()["event"] for e in tracker.events]
    assert again.get_slot("company") == "龙游县恒丰纸业有限公司"
    again.update(SessionStarted())  # a new session in the restarted process
    again.update(UserUttered("你好"))
    await restarted.save(again)
    assert rows(db) == 13
    latest = await restarted.retrieve("s1")
    latest.update(BotUttered("您好"))
    await restarted.save(latest)
    assert rows(db) == 14  # nothing stored twice


async def test_without_the_cache_every_turn_reads_the_file(tmp_path, monkeypatch):
    monkeypatch.setenv("SANIC_WORKERS", "2")  # another worker may have written
    db = str(tmp_path / "conversations.db")
    store, other = SqliteTrackerStore(None, db=db), SqliteTrackerStore(None, db=db)
    assert not store.cached
    tracker = DialogueStateTracker("s2", [])
    tracker.update(UserUttered("你好"))
    await store.save(tracker)
    seen = await other.retrieve("s2")
    seen.update(BotUttered("您好"))
    await other.save(seen)
    assert len((await store.retrieve("s2")).events) == 2 and rows(db) == 2
