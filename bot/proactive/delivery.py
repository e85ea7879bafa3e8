"""Policy delivery (政策直达): policies find the enterprises that qualify.

``plan``: every benefit-granting document whose version (content hash) has not been
matched yet — new or changed by ``govbot kb ingest``, the console or ``govbot run`` — is
matched against every subscribed profile with the policy matcher
(``bot.kb.matching.evaluate_policy``); an enterprise qualifies when no condition is missing
and at least one is met. Each qualifying enterprise gets one notice per document, planned
in the same transaction that records the version as matched, so a re-ingest of the same
document notifies no one again and a crash plans nothing twice.

``send``: pending notices go out on the enterprise's channel through the Rasa server
(``bot.tickets.notify.RasaNotifier.notice``: a WeChat template message, a WeCom app
message, the web chat's conversation), no more than ``limit`` a week per enterprise; the
others wait for the next week. Each row is claimed before sending, so two web processes
never send one notice twice; every outcome is recorded.

``plan_reminders``: an enterprise told about a policy is reminded once, a few days before
its application deadline.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Engine

from bot.db.schema import (
    enterprise_profiles,
    policy_deliveries,
    policy_versions,
    proactive_marks,
)
from bot.kb.matching import Match, deadline, evaluate_policy, still_open
from bot.proactive.profiles import ProfileStore

logger = logging.getLogger(__name__)

NOTICE, REMINDER = "notice", "reminder"
REMINDER_DAYS = 7  # a reminder this many days before the deadline
MAX_ATTEMPTS = 3  # a notice that failed this often is given up (status failed)
STARTED = "delivery_started"  # the proactive_marks row of the first matching run
STALE_CLAIM = timedelta(minutes=10)  # a claimed notice whose sender died is sent again
#: how the enterprise stops or manages its notices (the chat understands these)
FOOTER = "回复“退订”不再接收政策推送；回复“我的信息”可查看或删除贵企业的信息。"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def qualifies(m: Match | None) -> bool:
    return m is not None and not m.missing and bool(m.met)


def benefit_documents(documents: Iterable[dict[str, Any]], today: date) -> list[dict[str, Any]]:
    """Documents that grant something and can still be applied for."""
    return [d for d in documents if d.get("benefit") and d.get("eligibility")
            and still_open(d, today)]


def citation(doc: dict[str, Any]) -> str:
    details = "，".join(x for x in (doc.get("doc_no"), doc.get("issuer"), doc.get("date")) if x)
    return f"《{doc['title']}》" + (f"（{details}）" if details else "")


def how_to_apply(doc: dict[str, Any]) -> str:
    if doc.get("apply_how"):
        return str(doc["apply_how"])
    who = doc.get("issuer") or "政策发布部门"
    return f"请向{who}咨询申报" + (f"，政策原文：{doc['url']}" if doc.get("url") else "")


def notice_text(doc: dict[str, Any], m: Match) -> str:
    """What the enterprise reads: what it can get, why it qualifies, what is still
    unknown, the deadline, how to apply, the citation."""
    lines = [f"【政策推送】根据贵企业在本平台的信息，您可能可以享受：{doc['title']}",
             f"可享受：{doc['benefit']}",
             f"符合条件：{'；'.join(m.met)}"]
    if m.unknown:
        lines.append(f"尚需确认：{'；'.join(m.unknown)}")
    until = deadline(doc)
    if until:
        label = "申报截止" if doc.get("apply_by") else "政策有效期至"
        lines.append(f"{label}：{until}")
    lines += [f"如何申报：{how_to_apply(doc)}", f"依据：{citation(doc)}",
              "以上为根据政策条件的初步匹配，以主管部门审核为准。想了解细节，直接回复问题即可。",
              FOOTER]
    return "\n".join(lines)


def reminder_text(doc: dict[str, Any], days: int) -> str:
    return "\n".join([f"【申报提醒】{doc['title']}还有{days}天截止申报（{deadline(doc)}）。",
                      f"可享受：{doc['benefit']}", f"如何申报：{how_to_apply(doc)}",
                      f"依据：{citation(doc)}", FOOTER])


@dataclass(frozen=True)
class Planned:
    documents: int  # benefit documents newly matched
    notices: int  # notices planned
    profiles: int  # subscribed profiles read


def plan(engine: Engine, profiles: ProfileStore, documents: list[dict[str, Any]],
         versions: dict[str, str], today: date | None = None,
         clock: Callable[[], datetime] = _now) -> Planned:
    """Match the benefit documents whose version was not matched yet; plan a notice for
    each qualifying subscribed enterprise not told about the document before. The first
    run ever records the knowledge base as it is without notices (its policies predate
    the profiles)."""
    today = today or clock().date()
    with engine.connect() as conn:
        seen = dict(conn.execute(select(policy_versions.c.doc_id, policy_versions.c.hash)).all())
        started = conn.execute(select(proactive_marks.c.at).where(
            proactive_marks.c.name == STARTED)).first() is not None
    now = clock()
    if not started:
        with engine.begin() as conn:
            _record_versions(conn, {i: h for i, h in versions.items() if seen.get(i) != h},
                             seen, now)
            conn.execute(insert(proactive_marks).values(name=STARTED, at=now))
        logger.info("Policy delivery starts: %d documents recorded as already known",
                    len(versions))
        return Planned(0, 0, 0)
    docs = [d for d in benefit_documents(documents, today)
            if d["id"] in versions and seen.get(d["id"]) != versions[d["id"]]]
    if not docs:
        return Planned(0, 0, 0)
    rows: list[dict[str, Any]] = []
    read = 0
    for p in profiles.subscribers("system:policy-matching"):
        read += 1
        facts = p.for_matching()
        for d in docs:
            m = evaluate_policy(d, facts)
            if qualifies(m):
                until = deadline(d)
                rows.append({"credit_code": p.credit_code, "doc_id": d["id"], "kind": NOTICE,
                             "status": "pending", "text": notice_text(d, m),
                             "deadline": date.fromisoformat(until) if until else None,
                             "channel": p.channel, "created_at": now})
    with engine.begin() as conn:
        told = set(conn.execute(select(policy_deliveries.c.credit_code,
                                       policy_deliveries.c.doc_id).where(
            policy_deliveries.c.kind == NOTICE,
            policy_deliveries.c.doc_id.in_([d["id"] for d in docs]))).all())
        new = [r for r in rows if (r["credit_code"], r["doc_id"]) not in told]
        for i in range(0, len(new), 1000):
            conn.execute(insert(policy_deliveries), new[i:i + 1000])
        _record_versions(conn, {d["id"]: versions[d["id"]] for d in docs}, seen, now)
    logger.info("Policy delivery: %d new or changed benefit policies matched against %d "
                "profiles, %d notices planned", len(docs), read, len(new))
    return Planned(len(docs), len(new), read)


def _record_versions(conn, versions: dict[str, str], seen: dict[str, str],  # noqa: ANN001
                     now: datetime) -> None:
    for doc_id, digest in versions.items():
        if doc_id in seen:
            conn.execute(update(policy_versions).where(policy_versions.c.doc_id == doc_id)
                         .values(hash=digest, matched_at=now))
        else:
            conn.execute(insert(policy_versions).values(doc_id=doc_id, hash=digest,
                                                        matched_at=now))


def plan_reminders(engine: Engine, documents: dict[str, dict[str, Any]],
                   today: date | None = None, clock: Callable[[], datetime] = _now) -> int:
    """A reminder for every enterprise told about a policy whose application deadline
    is at most ``REMINDER_DAYS`` away (once each)."""
    today = today or clock().date()
    soon = today + timedelta(days=REMINDER_DAYS)
    with engine.begin() as conn:
        told = conn.execute(select(policy_deliveries.c.credit_code, policy_deliveries.c.doc_id,
                                   policy_deliveries.c.deadline, policy_deliveries.c.channel)
                            .where(policy_deliveries.c.kind == NOTICE,
                                   policy_deliveries.c.status == "sent",
                                   policy_deliveries.c.deadline >= today,
                                   policy_deliveries.c.deadline <= soon)).all()
        reminded = set(conn.execute(select(policy_deliveries.c.credit_code,
                                           policy_deliveries.c.doc_id).where(
            policy_deliveries.c.kind == REMINDER)).all())
        now = clock()
        rows = [{"credit_code": t.credit_code, "doc_id": t.doc_id, "kind": REMINDER,
                 "status": "pending", "deadline": t.deadline, "channel": t.channel,
                 "created_at": now,
                 "text": reminder_text(documents[t.doc_id], (t.deadline - today).days)}
                for t in told if (t.credit_code, t.doc_id) not in reminded
                and t.doc_id in documents and documents[t.doc_id].get("apply_by")]
        if rows:
            conn.execute(insert(policy_deliveries), rows)
    return len(rows)


class Deliverer(Protocol):
    async def notice(self, conversation_id: str, text: str, doc: dict[str, Any]) -> bool: ...


@dataclass(frozen=True)
class Sent:
    sent: int
    failed: int
    waiting: int  # over the weekly limit: next week
    no_channel: int


async def send(engine: Engine, deliverer: Deliverer, documents: dict[str, dict[str, Any]],
               limit: int, batch: int = 500, parallel: int = 8,
               clock: Callable[[], datetime] = _now) -> Sent:
    """Send up to ``batch`` pending notices, at most ``limit`` per enterprise in any seven
    days. The database calls run in worker threads: the web process's pages go on
    answering while notices go out."""
    now = clock()
    rows, recent = await asyncio.to_thread(_due, engine, batch, now)
    counts = {"sent": 0, "failed": 0, "waiting": 0, "no_channel": 0}
    due = []
    for r in rows:
        if r.subscribed is None or not r.subscribed:  # deleted or unsubscribed meanwhile
            await asyncio.to_thread(_finish, engine, r.id, "cancelled",
                                    "profile deleted or unsubscribed")
        elif not r.conversation_id or r.doc_id not in documents:
            await asyncio.to_thread(_finish, engine, r.id, "no_channel",
                                    "no chat channel to reach the enterprise"
                                    if not r.conversation_id
                                    else "document left the knowledge base")
            counts["no_channel"] += 1
        elif recent.get(r.credit_code, 0) >= limit:
            counts["waiting"] += 1
        else:
            recent[r.credit_code] = recent.get(r.credit_code, 0) + 1
            due.append(r)
    gate = asyncio.Semaphore(parallel)

    def claim(r: Any) -> bool:  # no other process sends it meanwhile
        with engine.begin() as conn:
            return bool(conn.execute(update(policy_deliveries).where(
                policy_deliveries.c.id == r.id, policy_deliveries.c.status == "pending")
                .values(status="sending", sent_at=clock())).rowcount)

    def record(r: Any, ok: bool) -> None:
        attempts = r.attempts + 1
        status = "sent" if ok else ("failed" if attempts >= MAX_ATTEMPTS else "pending")
        with engine.begin() as conn:
            conn.execute(update(policy_deliveries).where(policy_deliveries.c.id == r.id)
                         .values(status=status, attempts=attempts, channel=r.channel,
                                 sent_at=clock() if ok else None,
                                 detail=None if ok else "the channel did not take it"))

    async def one(r: Any) -> None:
        if not await asyncio.to_thread(claim, r):
            return
        async with gate:
            ok = await deliverer.notice(r.conversation_id, r.text, documents[r.doc_id])
        await asyncio.to_thread(record, r, ok)
        counts["sent" if ok else "failed"] += 1

    await asyncio.gather(*(one(r) for r in due))
    return Sent(**counts)


def _due(engine: Engine, batch: int, now: datetime) -> tuple[list[Any], dict[str, int]]:
    """The next ``batch`` pending notices with the enterprise's current channel, and how
    many each of their enterprises was sent in the last seven days. Notices claimed by a
    sender that died go back to pending first."""
    with engine.begin() as conn:
        conn.execute(update(policy_deliveries).where(
            policy_deliveries.c.status == "sending",
            policy_deliveries.c.sent_at < now - STALE_CLAIM).values(status="pending"))
        rows = conn.execute(
            select(policy_deliveries.c.id, policy_deliveries.c.credit_code,
                   policy_deliveries.c.doc_id, policy_deliveries.c.text,
                   policy_deliveries.c.attempts, enterprise_profiles.c.channel,
                   enterprise_profiles.c.conversation_id, enterprise_profiles.c.subscribed)
            .join(enterprise_profiles, enterprise_profiles.c.credit_code
                  == policy_deliveries.c.credit_code, isouter=True)
            .where(policy_deliveries.c.status == "pending")
            .order_by(policy_deliveries.c.id).limit(batch)).all()
        codes = {r.credit_code for r in rows}
        recent = dict(conn.execute(
            select(policy_deliveries.c.credit_code, func.count())
            .where(policy_deliveries.c.credit_code.in_(codes),
                   policy_deliveries.c.status.in_(("sent", "sending")),
                   policy_deliveries.c.sent_at >= now - timedelta(days=7))
            .group_by(policy_deliveries.c.credit_code)).all()) if codes else {}
    return list(rows), recent


def _finish(engine: Engine, row_id: int, status: str, detail: str) -> None:
    with engine.begin() as conn:
        conn.execute(update(policy_deliveries).where(policy_deliveries.c.id == row_id)
                     .values(status=status, detail=detail))


def mark_asked(engine: Engine, conversation_id: str, doc_id: str,
               now: datetime | None = None) -> int:
    """The enterprise asked about a policy it was told about (the reach figures: "asked
    afterwards"): its sent notices of ``doc_id`` get their first ``asked_at``."""
    codes = (select(enterprise_profiles.c.credit_code)
             .where(enterprise_profiles.c.conversation_id == conversation_id))
    with engine.begin() as conn:
        return conn.execute(
            update(policy_deliveries)
            .where(policy_deliveries.c.doc_id == doc_id,
                   policy_deliveries.c.status == "sent",
                   policy_deliveries.c.asked_at.is_(None),
                   policy_deliveries.c.credit_code.in_(codes))
            .values(asked_at=now or _now())).rowcount
