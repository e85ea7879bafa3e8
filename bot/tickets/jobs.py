"""The periodic ticket jobs: escalate overdue tickets, register requests from the outbox,
follow up (回访) resolved tickets the enterprise has not rated.

In the single-machine default they run inside the department API process every
``GOVBOT_JOB_INTERVAL`` seconds; ``govbot tickets jobs`` runs them once (for cron
or a systemd timer when several API replicas run — see docs/tickets.md).
"""

from __future__ import annotations

import asyncio
import logging

from bot.tickets.factory import Backend
from bot.tickets.notify import RasaNotifier

logger = logging.getLogger(__name__)


async def run_jobs_once(backend: Backend, notifier: RasaNotifier | None,
                        followup_workdays: int = 3) -> dict[str, int]:
    registered = await asyncio.to_thread(backend.outbox.drain, backend.service)
    escalated = await asyncio.to_thread(backend.service.escalate_overdue)
    followed = await asyncio.to_thread(backend.service.follow_up_unrated, followup_workdays) \
        if notifier is not None else []
    if notifier is not None:
        for opened in registered:
            await notifier.ticket_changed(opened.ticket, "registered")
        for ticket in escalated:
            await notifier.ticket_changed(ticket)
        for ticket in followed:
            await notifier.ticket_changed(ticket, "followup")
    return {"registered": len(registered), "escalated": len(escalated),
            "followed_up": len(followed)}
