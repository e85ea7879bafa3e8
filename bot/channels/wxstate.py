"""Short-lived state of the WeChat channels: seen message ids, access tokens, the time of
each user's last message (the 48-hour window), the buttons last shown to each user.

One interface, two backends chosen in ``make_state``: in memory (one process, the
default) or Redis (several replicas share it; ``redis_url`` in the credentials).
"""

from __future__ import annotations

import json
import time
from typing import Any, Protocol


class ChannelState(Protocol):
    async def claim(self, key: str, ttl: int) -> bool:
        """True for the first caller with ``key`` within ``ttl`` seconds, else False."""

    async def get(self, key: str) -> Any | None: ...

    async def put(self, key: str, value: Any, ttl: int) -> None: ...

    async def delete(self, key: str) -> None: ...


class MemoryState:
    def __init__(self, clock=time.monotonic) -> None:  # noqa: ANN001 - a () -> float
        self._data: dict[str, tuple[float, Any]] = {}
        self._clock = clock

    def _alive(self, key: str) -> tuple[float, Any] | None:
        item = self._data.get(key)
        if item is not None and item[0] <= self._clock():
            del self._data[key]
            return None
        return item

    async def claim(self, key: str, ttl: int) -> bool:
        if self._alive(key) is not None:
            return False
        self._data[key] = (self._clock() + ttl, True)
        if len(self._data) > 100_000:  # bound the memory: drop what has expired
            now = self._clock()
            self._data = {k: v for k, v in self._data.items() if v[0] > now}
        return True

    async def get(self, key: str) -> Any | None:
        item = self._alive(key)
        return item[1] if item else None

    async def put(self, key: str, value: Any, ttl: int) -> None:
        self._data[key] = (self._clock() + ttl, value)

    async def delete(self, key: str) -> None:
        self._data.pop(key, None)


class RedisState:
    def __init__(self, url: str, prefix: str = "govbot:wx:") -> None:
        from redis import asyncio as aioredis

        self._redis = aioredis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        self._prefix = prefix

    async def claim(self, key: str, ttl: int) -> bool:
        return bool(await self._redis.set(self._prefix + key, b"1", nx=True, ex=ttl))

    async def get(self, key: str) -> Any | None:
        raw = await self._redis.get(self._prefix + key)
        return json.loads(raw) if raw is not None else None

    async def put(self, key: str, value: Any, ttl: int) -> None:
        await self._redis.set(self._prefix + key, json.dumps(value, ensure_ascii=False), ex=ttl)

    async def delete(self, key: str) -> None:
        await self._redis.delete(self._prefix + key)

    async def close(self) -> None:
        await self._redis.close()


def make_state(redis_url: str | None) -> ChannelState:
    return RedisState(redis_url) if redis_url else MemoryState()
