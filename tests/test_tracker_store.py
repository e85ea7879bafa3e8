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


async def test_a_turn_that_failed_half_way_leaves_nothing_behind(tmp_path):
    """The cache hands out the tracker the last turn saved; a turn that added events and
    then failed (no save) must not pass them on to the next turn."""
    db = str(tmp_path / "conversations.db")
    store = SqliteTrackerStore(None, db=db)
    tracker = await store.get_or_create_tracker("s3")  # a new conversation, saved
    tracker.update(UserUttered("我们厂贷款到期了"))
    await store.save(tracker)
    saved = len(tracker.events)
    failing = await store.retrieve("s3")
    failing.update(UserUttered("这句的回合出错了，没有保存"))
    again = await store.retrieve("s3")
    assert len(again.events) == saved == rows(db)
    again.update(UserUttered("再说一遍"))
    await store.save(again)
    assert rows(db) == saved + 1
    assert [e.text for e in (await SqliteTrackerStore(None, db=db)
                             .retrieve("s3")).events
            if isinstance(e, UserUttered)] == ["我们厂贷款到期了", "再说一遍"]


class Collecting:
    """An event broker that keeps what it is given."""

    def __init__(self) -> None:
        self.published: list[dict] = []

    def publish(self, event: dict) -> None:
        self.published.append(event)


async def test_an_event_broker_gets_every_new_event_once(tmp_path):
    broker = Collecting()
    store = SqliteTrackerStore(None, db=str(tmp_path / "conversations.db"),
                               event_broker=broker)
    tracker = await store.get_or_create_tracker("s4")
    for text in ("贷款到期了", "需要登记"):
        tracker = await store.retrieve("s4")
        tracker.update(UserUttered(text))
        tracker.update(BotUttered("好的"))
        await store.save(tracker)
    assert [e.get("text") for e in broker.published if e["event"] in ("user", "bot")] == [
        "贷款到期了", "好的", "需要登记", "好的"]
    assert len(broker.published) == len(tracker.events)
