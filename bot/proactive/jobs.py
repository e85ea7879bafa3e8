"""The proactive-service job, run with the periodic ticket jobs in the web process (and
by ``govbot tickets jobs``): read new tickets into profiles, match new or changed benefit
policies, plan deadline reminders, send what is due within the weekly limit."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import asdict

from bot.kb.index import KnowledgeBase
from bot.proactive.delivery import Deliverer, plan, plan_reminders, send
from bot.proactive.profiles import ProfileStore
from bot.tickets.factory import Backend

logger = logging.getLogger(__name__)


async def run_proactive_once(backend: Backend, kb: KnowledgeBase | None,
                             deliverer: Deliverer, weekly_limit: int) -> dict[str, int]:
    profiles = ProfileStore(backend.engine)
    read = await asyncio.to_thread(profiles.sync_from_tickets)
    if kb is None:  # no knowledge base yet: nothing to deliver
        return {"tickets_read": read}
    documents = await asyncio.to_thread(kb.documents)
    versions = await asyncio.to_thread(kb.versions)
    planned = await asyncio.to_thread(plan, backend.engine, profiles, documents, versions)
    by_id = {d["id"]: d for d in documents}
    reminders = await asyncio.to_thread(plan_reminders, backend.engine, by_id)
    sent = await send(backend.engine, deliverer, by_id, weekly_limit)
    return {"tickets_read": read, "policies_matched": planned.documents,
            "notices_planned": planned.notices, "reminders_planned": reminders,
            **{f"notices_{k}": v for k, v in asdict(sent).items()}}
