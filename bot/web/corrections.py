"""The administrator's review of NLU corrections (bot.corrections).

    GET  /web/corrections                   admin: pending corrections (JSON)
    POST /web/corrections/{id}/accept|reject admin
    GET  /web/corrections.yml               admin: the accepted ones as Rasa training data
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiohttp import web

from bot import corrections
from bot.http.keys import BACKEND
from bot.http.responses import ApiError, respond
from bot.taxonomy import taxonomy
from bot.web.site import need

logger = logging.getLogger(__name__)


def _view(row: dict[str, Any]) -> dict[str, Any]:
    tax = taxonomy()

    def label(domain: str | None, subtopic: str | None) -> str | None:
        if domain not in tax.domains:
            return None
        return tax.label(domain, subtopic if subtopic in tax.subtopics else None)

    return {"id": row["id"], "at": row["at"].isoformat(), "source": row["source"],
            "by": row["username"], "text": row["text"], "intent": row["intent"],
            "predicted": label(row["predicted_domain"], row["predicted_subtopic"]),
            "chosen": label(row["domain"], row["subtopic"]),
            "domain": row["domain"], "subtopic": row["subtopic"], "status": row["status"]}


async def pending(request: web.Request) -> web.Response:
    need(request, "admin")
    rows = await asyncio.to_thread(corrections.listing, request.app[BACKEND].engine)
    return respond({"corrections": [_view(r) for r in rows]})


async def decide(request: web.Request) -> web.Response:
    s = need(request, "admin")
    action = request.match_info["action"]
    if action not in ("accept", "reject"):
        raise ApiError(404, "not_found", "不支持的操作。", f"unknown correction action {action!r}")
    try:
        correction_id = int(request.match_info["id"])
    except ValueError:
        raise ApiError(404, "not_found", "没有这条纠正记录。", "bad correction id") from None
    done = await asyncio.to_thread(corrections.decide, request.app[BACKEND].engine,
                                   correction_id, action == "accept", s.user.username)
    if not done:
        raise ApiError(409, "conflict", "这条纠正已处理或不存在，请刷新页面。",
                       f"correction {correction_id} is not pending")
    logger.info("NLU correction %d %sed by %s", correction_id, action, s.user.username)
    return respond({"id": correction_id,
                    "status": "accepted" if action == "accept" else "rejected"})


async def export(request: web.Request) -> web.Response:
    """The accepted corrections as Rasa NLU training data (what --with-corrections adds)."""
    need(request, "admin")
    rows = await asyncio.to_thread(corrections.accepted, request.app[BACKEND].engine)
    return web.Response(text=corrections.dump(corrections.training_data(rows)),
                        content_type="text/yaml",
                        headers={"Content-Disposition":
                                 'attachment; filename="nlu_corrections.yml"'})


def add_correction_routes(app: web.Application) -> None:
    app.router.add_get("/web/corrections", pending)
    app.router.add_get("/web/corrections.yml", export)
    app.router.add_post("/web/corrections/{id}/{action}", decide)
