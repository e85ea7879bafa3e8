"""Rasa's conversation lock on Redis, made safe for several replicas.

Rasa's ``RedisLockStore`` keeps each conversation's ticket queue in one Redis key
and changes it by read → modify → write. With several replicas, two of them that
take a ticket at the same moment both read the same queue and both write it back:
they get the same ticket number (and handle the user's messages at the same time,
losing events in the tracker store), or one of them loses its ticket and its turn
fails. Releasing a ticket races in the same way.

``AtomicRedisLockStore`` keeps Rasa's ticket algorithm and key format but makes
every change of a queue one optimistic Redis transaction (``WATCH``/``MULTI``,
retried when another replica changed the key in between). The key expires with
its last ticket, so a replica that dies holding the lock cannot block the
conversation for longer than the lock lifetime.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

T = TypeVar("T")

SOCKET_TIMEOUT = 2.0  # seconds: connecting to Redis and each answer


class AtomicRedisLockStore(RedisLockStore):
    """Used by Rasa through ``lock_store: {type: bot.lock_store.AtomicRedisLockStore}``."""

    def __init__(self, endpoint_config: EndpointConfig | None = None, **kwargs: Any) -> None:
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url or "localhost", **endpoint_config.kwargs}
        kwargs.setdefault("socket_timeout", SOCKET_TIMEOUT)
        super().__init__(**kwargs)
        # Redis unreachable or hung: the turn fails within this time (the user is asked
        # to retry), it never hangs — the calls block the replica's event loop
        self.red.connection_pool.connection_kwargs["socket_connect_timeout"] = \
            kwargs["socket_timeout"]

    def _change(self, conversation_id: str,
                change: Callable[[TicketLock], T]) -> T:
        """Apply ``change`` to the conversation's queue in one Redis transaction."""
        key = self.key_prefix + conversation_id

        def transaction(pipe: Any) -> T:
            raw = pipe.get(key)
            lock = (TicketLock.from_dict(json.loads(raw)) if raw
                    else TicketLock(conversation_id))
            result = change(lock)
            lock.remove_expired_tickets()
            pipe.multi()
            if lock.tickets:
                lifetime = max(t.expires for t in lock.tickets) - time.time()
                pipe.set(key, lock.dumps(), px=max(1, int(lifetime * 1000)) + 1000)
            else:
                pipe.delete(key)
            return result

        return self.red.transaction(transaction, key, value_from_callable=True)

    def issue_ticket(self, conversation_id: str,
                     lock_lifetime: float = LOCK_LIFETIME) -> int:
        try:
            return self._change(conversation_id, lambda lock: lock.issue_ticket(lock_lifetime))
        except Exception as err:  # the caller (Rasa's agent) expects a LockError
            raise LockError(f"Error while acquiring lock. Error:\n{err}") from err

    def update_lock(self, conversation_id: str) -> None:
        self._change(conversation_id, lambda lock: None)  # drops expired tickets

    def finish_serving(self, conversation_id: str, ticket_number: int) -> None:
        self._change(conversation_id, lambda lock: lock.remove_ticket_for(ticket_number))

    def cleanup(self, conversation_id: str, ticket_number: int) -> None:
        # one transaction: the key is deleted only when no other ticket is waiting
        self.finish_serving(conversation_id, ticket_number)
