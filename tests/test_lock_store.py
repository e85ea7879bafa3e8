"""The conversation lock on the real Redis, taken by several "replicas" at once
(threads, each with its own lock store and connection, as separate processes have)."""

import asyncio
import threading
import time
import uuid

import pytest
import redis
from rasa.utils.endpoints import EndpointConfig

from bot.lock_store import AtomicRedisLockStore

DB = 14

pytestmark = pytest.mark.redis


@pytest.fixture
def stores():
    made = [AtomicRedisLockStore(host="127.0.0.1", port=6379, db=DB, key_prefix="t")
            for _ in range(4)]
    yield made
    redis.Redis(db=DB).flushdb()


def run_together(n, work):
    """Start ``work(i)`` in n threads at the same moment; return their results."""
    barrier, results, errors = threading.Barrier(n), [None] * n, []

    def run(i):
        try:
            barrier.wait()
            results[i] = work(i)
        except Exception as err:  # noqa: BLE001 - reported below
            errors.append(err)
    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    return results


def test_tickets_taken_at_once_by_several_replicas_are_all_different(stores):
    conversation = uuid.uuid4().hex
    issued = run_together(4, lambda i: [stores[i].issue_ticket(conversation)
                                        for _ in range(25)])
    numbers = [n for batch in issued for n in batch]
    assert sorted(numbers) == list(range(100))
    lock = stores[0].get_lock(conversation)
    assert [t.number for t in lock.tickets] == list(range(100))


def test_releasing_tickets_at_once_loses_none_and_deletes_the_key(stores):
    conversation = uuid.uuid4().hex
    tickets = [stores[0].issue_ticket(conversation) for _ in range(40)]
    run_together(4, lambda i: [stores[i].cleanup(conversation, t) for t in tickets[i::4]])
    assert stores[0].get_lock(conversation) is None
    assert not redis.Redis(db=DB).exists(stores[0].key_prefix + conversation)


def test_one_turn_at_a_time_across_replicas(stores):
    conversation, inside, overlaps, order = uuid.uuid4().hex, [0], [], []
    guard = threading.Lock()

    async def turn(store, i):
        async with store.lock(conversation, wait_time_in_seconds=0.01):
            with guard:
                inside[0] += 1
                overlaps.append(inside[0])
            await asyncio.sleep(0.005)  # hold the lock a moment: an overlap would show
            order.append(i)
            with guard:
                inside[0] -= 1

    run_together(4, lambda i: asyncio.run(turn(stores[i], i)) or i)
    assert max(overlaps) == 1 and sorted(order) == [0, 1, 2, 3]
    assert stores[0].get_lock(conversation) is None


def test_a_dead_replicas_lock_expires(stores):
    conversation = uuid.uuid4().hex
    stores[0].issue_ticket(conversation, lock_lifetime=1)  # its holder never releases it
    ttl = redis.Redis(db=DB).pttl(stores[0].key_prefix + conversation)
    assert 0 < ttl <= 2000
    time.sleep(1.1)  # waits out the lock's lifetime of 1 s: the behaviour under test
    assert stores[1].issue_ticket(conversation) == 0  # served at once, no wait


def test_rasa_builds_it_from_endpoints_yml():
    store = AtomicRedisLockStore(endpoint_config=EndpointConfig(
        url="127.0.0.1", type="bot.lock_store.AtomicRedisLockStore", port=6379, db=DB,
        key_prefix="govbot"))
    assert store.key_prefix == "govbot:lock:"
    assert store.red.connection_pool.connection_kwargs["db"] == DB


@pytest.mark.parametrize("redis_is", ["down", "hung"])
def test_an_unreachable_redis_fails_the_turn_instead_of_hanging(redis_is):
    """Down: nothing listens. Hung: a server that accepts connections and never answers.
    Either way taking the lock raises LockError (the REST channel then says 「请稍后重试」)."""
    import socket

    from rasa.core.lock_store import LockError

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        port = listener.getsockname()[1]
        if redis_is == "hung":
            listener.listen()  # the kernel accepts; nobody reads or answers
        else:
            listener.close()
        store = AtomicRedisLockStore(host="127.0.0.1", port=port, key_prefix="t")
        with pytest.raises(LockError):
            store.issue_ticket(uuid.uuid4().hex)
