"""Telling the enterprise, in its own channel, that its ticket changed.

The notifier triggers the external intent ``EXTERNAL_ticket_update`` in the
enterprise's Rasa conversation (``POST /conversations/{id}/trigger_intent``);
the action ``action_ticket_update`` then words the message from the ticket
itself and the channel delivers it (pushed on WeChat/WeCom; kept in the
conversation for the REST channel). Every attempt is an event on the ticket.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import quote

import aiohttp

from bot.kb.matching import deadline
from bot.settings import RasaApi
from bot.tickets.model import REPORT_CHANNEL, Ticket
from bot.tickets.store import TicketStore

logger = logging.getLogger(__name__)

EXTERNAL_INTENT = "EXTERNAL_ticket_update"
HANDOFF_CLOSED_INTENT = "EXTERNAL_handoff_closed"
#: what the enterprise is told about: a status, ``followup`` (回访: the rating asked again)
#: or ``report_answer`` (the answer to a policy-blockage report that included its ticket)
NOTIFIED_STATUSES = {"assigned", "in_progress", "escalated", "resolved", "reopened", "closed",
                     "followup", "report_answer"}


class RasaNotifier:
    def __init__(self, rasa: RasaApi, store: TicketStore, timeout: float = 10.0) -> None:
        self.rasa, self.store = rasa, store
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self._tasks: set[asyncio.Task] = set()  # notifications still being sent

    async def ticket_changed(self, ticket: Ticket, what: str | None = None) -> bool:
        """Notify about ``ticket``'s current status (or ``what``, e.g. "registered");
        returns whether Rasa accepted it. Never raises: the API call that changed the
        ticket has succeeded either way."""
        what = what or ticket.status.value
        if ticket.channel == REPORT_CHANNEL and what == "resolved":
            # a policy-blockage report answered: every enterprise it reported on is told,
            # in the background (the handler's answer does not wait for hundreds of them)
            task = asyncio.create_task(self._tell_related(ticket.number))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
            return True
        if not ticket.conversation_id or (what not in NOTIFIED_STATUSES
                                          and what != "registered"):
            return False
        url = self.rasa.url(f"/conversations/{quote(ticket.conversation_id, safe='')}"
                            "/trigger_intent?output_channel=latest")
        body = {"name": EXTERNAL_INTENT,
                "entities": {"ticket_number": ticket.number, "ticket_status": what}}
        delivered = False
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session, \
                    session.post(url, json=body) as response:
                delivered = response.status == 200
                if not delivered:
                    logger.warning("Notification for %s (%s) refused by Rasa: HTTP %d",
                                   ticket.number, what, response.status)
        except (aiohttp.ClientError, asyncio.TimeoutError) as err:
            logger.warning("Notification for %s (%s) failed: %s", ticket.number, what,
                           type(err).__name__)
        await asyncio.to_thread(self.store.add_note, ticket.number, "system:notifier",
                                f"通知企业：{what}", kind="notification", status=what,
                                delivered=delivered)
        return delivered

    async def _tell_related(self, number: str, at_once: int = 10) -> int:
        """Notify each ticket report ``number`` reported on (``report_answer``), at most
        ``at_once`` at a time; one that fails does not stop the others. How many were
        delivered."""
        gate = asyncio.Semaphore(at_once)

        async def one(related: str) -> bool:
            async with gate:
                try:
                    member = await asyncio.to_thread(self.store.get, related)
                    return await self.ticket_changed(member, "report_answer")
                except Exception:  # noqa: BLE001 - logged; the next enterprise is told
                    logger.exception("Report answer for %s not notified", related)
                    return False
        try:
            related = await asyncio.to_thread(self.store.related, number)
        except Exception:  # noqa: BLE001 - a database error: logged, nothing sent
            logger.exception("Tickets of report %s not read", number)
            return 0
        delivered = sum(await asyncio.gather(*(one(r) for r in related)))
        logger.info("Report %s answered: %d of %d enterprise(s) notified.", number,
                    delivered, len(related))
        return delivered

    async def resume(self, conversation_id: str) -> bool:
        """Give a handed-over conversation back to the assistant and tell the user."""
        base = f"/conversations/{quote(conversation_id, safe='')}"
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session:
                # messages the user sent while paused were never answered: close that
                # turn with action_listen so the next intent starts a fresh turn
                async with session.post(self.rasa.url(f"{base}/tracker/events"), json=[
                        {"event": "resume"},
                        {"event": "action", "name": "action_listen"}]) as response:
                    if response.status != 200:
                        logger.warning("Resuming conversation refused by Rasa: HTTP %d",
                                       response.status)
                        return False
                trigger = self.rasa.url(f"{base}/trigger_intent?output_channel=latest")
                async with session.post(trigger, json={"name": HANDOFF_CLOSED_INTENT}) as response:
                    return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError) as err:
            logger.warning("Resuming a conversation failed: %s", type(err).__name__)
            return False

    async def staff_reply(self, conversation_id: str, text: str, agent: str) -> dict | None:
        """Deliver a staff reply to a handed-over conversation (bot/channels/staff.py):
        ``{"channel", "delivery", "delivered"}``, or None when Rasa cannot be reached."""
        url = self.rasa.url("/webhooks/staff/reply")
        body = {"conversation_id": conversation_id, "text": text, "agent": agent}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session, \
                    session.post(url, json=body) as response:
                answer = await response.json(content_type=None)
                if response.status != 200 or "error" in answer:
                    logger.warning("Staff reply refused by Rasa: HTTP %d %s", response.status,
                                   answer.get("error") if isinstance(answer, dict) else "")
                    return None
                return answer
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as err:
            logger.warning("Staff reply not delivered: %s", type(err).__name__)
            return None

    async def notice(self, conversation_id: str, text: str, doc: dict) -> bool:
        """Send a policy notice into the enterprise's conversation and on its channel
        (bot/channels/staff.py); whether the channel took it."""
        card = {"doc_id": doc["id"], "title": doc["title"], "benefit": doc.get("benefit", ""),
                "deadline": deadline(doc) or "", "url": doc.get("url", "")}
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session, \
                    session.post(self.rasa.url("/webhooks/staff/notice"), json={
                        "conversation_id": conversation_id, "text": text,
                        "card": card}) as response:
                answer = await response.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as err:
            logger.warning("Policy notice not delivered: %s", type(err).__name__)
            return False
        if response.status != 200 or not isinstance(answer, dict) or "error" in answer:
            logger.warning("Policy notice refused by Rasa: HTTP %d %s", response.status,
                           answer.get("error") if isinstance(answer, dict) else "")
            return False
        return bool(answer.get("delivered"))

    async def conversation(self, conversation_id: str) -> dict:
        """The conversation as staff read it: its messages (who: user, bot or staff; text;
        at) and the enterprise's details from its slots. Empty when Rasa is unreachable."""
        url = self.rasa.url(f"/conversations/{quote(conversation_id, safe='')}/tracker")
        try:
            async with aiohttp.ClientSession(timeout=self.timeout) as session, \
                    session.get(url) as response:
                tracker = await response.json() if response.status == 200 else {}
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as err:
            logger.warning("Conversation not read: %s", type(err).__name__)
            tracker = {}
        messages = []
        for e in tracker.get("events") or []:
            text = str(e.get("text") or "")
            if e.get("event") == "user" and not text.startswith("EXTERNAL:"):
                shown = f"〔按钮〕{text}" if text.startswith("/") else text
                messages.append({"who": "user", "text": shown, "at": e.get("timestamp")})
            elif e.get("event") == "bot" and text:
                staff = (e.get("metadata") or {}).get("staff")
                messages.append({"who": "staff" if staff else "bot", "text": text,
                                 "at": e.get("timestamp"), "staff": staff})
        slots = tracker.get("slots") or {}
        details = {k: slots.get(k) for k in ("company", "contact_name", "mobile", "region")}
        return {"messages": messages[-60:], "enterprise": details}

    async def rasa_up(self) -> bool:
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as s, \
                    s.get(self.rasa.url("/status")) as response:
                return response.status == 200
        except (aiohttp.ClientError, asyncio.TimeoutError):
            return False
