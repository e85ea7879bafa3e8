"""Rasa's RabbitMQ event broker that loses no conversation event (production mode).

Rasa's ``PikaEventBroker`` publishes each event in a background task and keeps the ones
that fail in memory: they are lost when the replica stops or dies before RabbitMQ comes
back, and events of turns still being published when the replica is stopped are lost
too. This subclass

* waits for RabbitMQ's publisher confirm of every event (aio-pika's channels confirm);
* writes an event that cannot be published — the broker away, the channel closed — to a
  local spool (one file per event, written atomically, under ``spool_dir``);
* publishes the spool again when the connection comes back, every ``RETRY_SECONDS``
  while it is not empty, and when a replica starts (what another replica on this
  machine left behind: each file is claimed by renaming it, so two replicas never
  publish one file twice);
* on a graceful stop (SIGTERM: Rasa closes the broker after Sanic has finished the
  in-flight turns) waits up to ``DRAIN_SECONDS`` for the publishes under way and spools
  the rest, so nothing is lost.

The statistics consumer (``bot/events.py``) counts each turn once however often it is
delivered, so an event published twice after a crash is harmless.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any

from rasa.core.brokers.pika import PikaEventBroker

logger = logging.getLogger(__name__)

RETRY_SECONDS = 5.0
DRAIN_SECONDS = 10.0
PUBLISH_TIMEOUT = 10.0  # a publish not confirmed by then is spooled
BATCH = 200  # spooled events published at once


def _unclaimed(path: Path) -> Path:
    """``NAME.PID.claimed`` → ``NAME.json``."""
    return path.with_suffix("").with_suffix(".json")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class DurablePikaEventBroker(PikaEventBroker):
    def __init__(self, *args: Any, spool_dir: str = "", **kwargs: Any) -> None:
        kwargs["should_keep_unpublished_messages"] = False  # the spool keeps them
        super().__init__(*args, **kwargs)
        self.spool = Path(spool_dir or "var/events-spool")
        self._retry: asyncio.Task | None = None
        self._in_flight: dict[int, tuple[dict[str, Any], dict[str, str] | None]] = {}

    async def connect(self) -> None:
        await super().connect()
        self.reclaim_orphans()
        self._connection.reconnect_callbacks.add(lambda *_: self._replay_soon())
        self._retry = self._loop.create_task(self._retry_loop())

    def reclaim_orphans(self) -> int:
        """Spooled files a process had claimed when it died: back into the spool."""
        back = 0
        for path in self.spool.glob("*.claimed") if self.spool.is_dir() else []:
            pid = path.suffixes[-2].lstrip(".") if len(path.suffixes) >= 2 else ""
            if pid.isdigit() and _alive(int(pid)):
                continue
            try:
                os.rename(path, _unclaimed(path))
                back += 1
            except FileNotFoundError:
                continue  # another replica took it back first
        return back

    async def _publish(self, event: dict[str, Any],
                       headers: dict[str, str] | None = None) -> None:
        if not self.can_publish():
            self.spool_event(event, headers)
            return
        key = id(event)
        self._in_flight[key] = (event, headers)
        try:  # returns once RabbitMQ confirmed the message
            await self._exchange.publish(self._message(event, headers), "",
                                         timeout=PUBLISH_TIMEOUT)
        except Exception as err:  # noqa: BLE001 - whatever the reason, keep the event
            self.spool_event(event, headers)
            logger.warning("Event not published (%s); kept in %s.", type(err).__name__,
                           self.spool)
        finally:
            self._in_flight.pop(key, None)

    def spool_event(self, event: dict[str, Any], headers: dict[str, str] | None) -> None:
        self.spool.mkdir(parents=True, exist_ok=True)
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex}"
        partial = self.spool / f".{name}.tmp"
        partial.write_text(json.dumps({"event": event, "headers": headers}),
                           encoding="utf-8")
        os.replace(partial, self.spool / f"{name}.json")

    def can_publish(self) -> bool:
        return self._exchange is not None and self.is_ready()

    def spooled(self) -> list[Path]:
        return sorted(self.spool.glob("*.json")) if self.spool.is_dir() else []

    def _replay_soon(self) -> None:
        task = self._loop.create_task(self.replay())  # kept, and drained by close()
        self._background_tasks.add(task)
        task.add_done_callback(self._background_tasks.discard)

    async def replay(self) -> int:
        """Publish what the spool holds, ``BATCH`` events at a time (each batch's confirms
        awaited together); returns how many were published."""
        published = 0
        files = self.spooled()
        for start in range(0, len(files), BATCH):
            if not self.can_publish():
                break
            claimed = [c for c in map(self._claim, files[start:start + BATCH]) if c]
            confirmed: set[Path] = set()
            try:
                items = [json.loads(c.read_text(encoding="utf-8")) for c in claimed]
                outcomes = await asyncio.gather(*(
                    self._exchange.publish(self._message(i["event"], i["headers"]), "",
                                           timeout=PUBLISH_TIMEOUT) for i in items),
                    return_exceptions=True)
                for path, outcome in zip(claimed, outcomes, strict=True):
                    if not isinstance(outcome, BaseException):
                        path.unlink()
                        confirmed.add(path)
            finally:  # whatever happened (cancelled, a broken file): the rest stays spooled
                for path in claimed:
                    if path not in confirmed:
                        os.rename(path, _unclaimed(path))
            published += len(confirmed)
            if len(confirmed) < len(claimed):
                logger.warning("%d spooled event(s) not published yet.",
                               len(claimed) - len(confirmed))
                break
        if published:
            logger.info("Published %d spooled conversation event(s).", published)
        return published

    @staticmethod
    def _claim(path: Path) -> Path | None:
        """Take a spooled file for this process (another replica may have taken it)."""
        claimed = path.with_suffix(f".{os.getpid()}.claimed")
        try:
            os.rename(path, claimed)
        except FileNotFoundError:
            return None
        return claimed

    async def _retry_loop(self) -> None:
        while True:
            await asyncio.sleep(RETRY_SECONDS)
            try:
                if self.spooled():
                    await self.replay()
            except Exception:  # noqa: BLE001 - the next round tries again
                logger.exception("Publishing the event spool failed")

    async def close(self) -> None:
        """After the last turn: wait for the publishes under way, spool what is left."""
        if self._retry is not None:
            self._retry.cancel()
            await asyncio.gather(self._retry, return_exceptions=True)  # claims given back
        pending = [t for t in self._background_tasks if not t.done()]
        late: set[asyncio.Task] = set()
        if pending:
            done, late = await asyncio.wait(pending, timeout=DRAIN_SECONDS)
            logger.info("Drained %d event publish(es) before stopping; %d unconfirmed "
                        "kept in the spool.", len(done), len(late))
        unconfirmed = list(self._in_flight.values())
        for task in late:  # stopped here, so that they do not spool their event again
            task.cancel()
        await asyncio.gather(*late, return_exceptions=True)
        for event, headers in unconfirmed:
            self.spool_event(event, headers)
        self._in_flight.clear()
        await super().close()
