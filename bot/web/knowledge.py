"""The knowledge base's editors' pages. Standard questions from the console: an agent who
answered a question the knowledge base could not proposes the pair (question, answer, the
document and section it cites); an administrator approves it — it is written to the
knowledge-base folder's ``faq/approved.yml`` and ingested — or rejects it. And the review
list: documents whose dates or targets have passed (bot.kb.review).

    POST /web/faq                      agent, admin: propose
    GET  /web/faq                      admin: the pending proposals
    POST /web/faq/{id}/approve|reject  admin
    GET  /web/kb/review                admin: documents to review
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.http.keys import BACKEND, knowledge_base_of
from bot.http.responses import ApiError, json_object, respond
from bot.kb.faq import FaqEntry, append_approved
from bot.kb.review import review_list
from bot.web.site import need

logger = logging.getLogger(__name__)

KB_SOURCE = web.AppKey("kb_source", Path)
LIMITS = {"question": 200, "answer": 1000, "doc_id": 100, "section": 200}


async def propose(request: web.Request) -> web.Response:
    s = need(request, "agent", "admin")
    body = await json_object(request)
    values = {k: str(body.get(k) or "").strip() for k in LIMITS}
    missing = [k for k, v in values.items() if not v]
    if missing:
        raise ApiError(400, "missing_field", "请填写问题、答案，并选择引用的政策文件和章节。",
                       f"FAQ proposal without {', '.join(missing)}")
    too_long = [k for k, n in LIMITS.items() if len(values[k]) > n]
    if too_long:
        raise ApiError(400, "too_long", "问题不超过200字，答案不超过1000字。",
                       f"FAQ proposal: {', '.join(too_long)} too long")
    kb = knowledge_base_of(request)
    sections = await asyncio.to_thread(kb.sections, values["doc_id"])
    if values["section"] not in sections:
        raise ApiError(400, "unknown_source",
                       "引用的政策文件或章节在政策库中不存在，请从检索结果中选择。",
                       f"FAQ proposal cites {values['doc_id']!r} / {values['section']!r}")
    proposal_id = await asyncio.to_thread(
        request.app[BACKEND].kb_log.propose, values["question"], values["answer"],
        values["doc_id"], values["section"], s.user.username)
    logger.info("FAQ proposal %d by %s (cites %s)", proposal_id, s.user.username,
                values["doc_id"])
    return respond({"id": proposal_id, "status": "proposed"}, status=201)


async def pending(request: web.Request) -> web.Response:
    need(request, "admin")
    rows = await asyncio.to_thread(request.app[BACKEND].kb_log.proposals, "proposed")
    return respond({"proposals": [_view(r) for r in rows]})


async def decide(request: web.Request) -> web.Response:
    s = need(request, "admin")
    action = request.match_info["action"]
    try:
        proposal_id = int(request.match_info["id"])
    except ValueError:
        raise ApiError(404, "not_found", "没有这条标准问答建议。", "bad proposal id") from None
    if action not in ("approve", "reject"):
        raise ApiError(404, "not_found", "不支持的操作。", f"unknown FAQ action {action!r}")
    log = request.app[BACKEND].kb_log
    proposal = await asyncio.to_thread(log.proposal, proposal_id)
    if proposal is None or proposal["status"] != "proposed":
        raise ApiError(409, "conflict", "这条建议已处理或不存在，请刷新页面。",
                       f"FAQ proposal {proposal_id} is not pending")
    faq_id = None
    if action == "approve":
        faq_id = f"console-{proposal_id}"
        kb = knowledge_base_of(request)
        entry = FaqEntry(faq_id, proposal["question"], (), proposal["answer"],
                         proposal["doc_id"], proposal["section"])
        folder = request.app[KB_SOURCE]
        await asyncio.to_thread(append_approved, folder, entry)
        report = await asyncio.to_thread(kb.ingest, folder)
        logger.info("FAQ %s approved by %s; knowledge base: %s", faq_id, s.user.username,
                    report.summary())
    if not await asyncio.to_thread(log.decide, proposal_id, action == "approve",
                                   s.user.username, faq_id):
        raise ApiError(409, "conflict", "这条建议已被他人处理，请刷新页面。",
                       f"FAQ proposal {proposal_id} decided concurrently")
    return respond({"id": proposal_id, "status": "approved" if faq_id else "rejected",
                    "faq_id": faq_id})


def _view(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}


async def review(request: web.Request) -> web.Response:
    need(request, "admin")
    kb = knowledge_base_of(request)
    documents = await asyncio.to_thread(kb.documents)
    return respond({"documents": review_list(documents)})


def add_knowledge_routes(app: web.Application, kb_source: Path) -> None:
    app[KB_SOURCE] = kb_source
    app.router.add_post("/web/faq", propose)
    app.router.add_get("/web/faq", pending)
    app.router.add_post("/web/faq/{id}/{action}", decide)
    app.router.add_get("/web/kb/review", review)
