"""Ticket requests that could not reach the database wait here until they can.

When the ticket database is down, the action tells the user the request is saved
and writes it to the outbox folder: one JSON file per request, written to a
temporary name and renamed, so a file is either complete or absent. ``drain``
opens them through the ticket service with the request's idempotency key, so a
request is registered exactly once however often draining is retried.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from bot.tickets.model import Enterprise, NewTicket, TicketError
from bot.tickets.service import Opened, TicketService

logger = logging.getLogger(__name__)


class Outbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def put(self, new: NewTicket, actor: str, request_key: str) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        name = request_key.encode("utf-8").hex()[:120]  # safe as a file name, stable
        path = self.folder / f"{name}.json"
        tmp = path.with_suffix(".tmp")
        body = {"actor": actor, "request_key": request_key, "ticket": dataclasses.asdict(new)}
        with open(tmp, "w", encoding="utf-8") as out:
            json.dump(body, out, ensure_ascii=False)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
        return path

    def pending(self) -> list[Path]:
        return sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []

    def drain(self, service: TicketService) -> list[Opened]:
        """Open every waiting request; stop at the first database error (still down)."""
        opened = []
        for path in self.pending():
            try:
                body = json.loads(path.read_text(encoding="utf-8"))
                fields = dict(body["ticket"])
                new = NewTicket(**{**fields, "enterprise": Enterprise(**fields["enterprise"])})
                result = service.open(new, body["actor"], request_key=body["request_key"])
            except SQLAlchemyError as err:
                logger.warning("Outbox: ticket database still unavailable (%s); %d request(s) "
                               "waiting.", type(err).__name__, len(self.pending()))
                break
            except (TicketError, ValueError, KeyError, TypeError) as err:
                failed = self.folder / "failed"
                failed.mkdir(exist_ok=True)
                os.replace(path, failed / path.name)
                logger.error("Outbox: request %s cannot be registered (%s); moved to %s.",
                             path.name, err, failed)
                continue
            path.unlink()
            if not result.repeated:
                opened.append(result)
            logger.info("Outbox: registered %s as ticket %s.", path.name, result.ticket.number)
        return opened
