"""The middleware both apps run behind: bearer-token authentication of API calls, ticket
and database errors translated into JSON answers, and an audit row for every call that
changes something (every API call but the public probes, every state-changing page
request), refused ones included."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone

from aiohttp import web
from sqlalchemy import insert
from sqlalchemy.exc import SQLAlchemyError

from bot.db.schema import api_audit
from bot.http.keys import BACKEND, TOKENS
from bot.http.responses import ApiError
from bot.http.tokens import Principal, digest
from bot.stats.labels import STATUS_SHORT
from bot.tickets.model import (
    ConcurrentUpdate,
    IllegalTransition,
    InvalidTicket,
    TicketError,
    TicketNotFound,
)

logger = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

#: API paths anyone may call (probes and the API's description)
PUBLIC = {"/api/v1/health", "/api/v1/ready", "/api/v1/metrics", "/api/v1/openapi.yaml"}
#: the router's answers, in Chinese and JSON like every other API error
ROUTING_ERRORS = {404: "没有这个接口，请对照接口文档（/api/v1/openapi.yaml）。",
                  405: "该接口不支持此请求方法，请对照接口文档。",
                  413: "请求内容过大。"}
#: page requests that change nothing (or are the enterprise's own, recorded elsewhere)
UNAUDITED_POSTS = {"/chat/send", "/web/analyze"}


def audited(request: web.Request) -> bool:
    """API calls (except the public probes) and every state-changing page request."""
    if request.path.startswith("/api/"):
        return request.path not in PUBLIC
    return request.method == "POST" and request.path not in UNAUDITED_POSTS \
        and not request.path.startswith("/status/")


def _principal(request: web.Request) -> Principal | None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        return None
    return request.app[TOKENS].get(digest(header.removeprefix("Bearer ").strip()))


@web.middleware
async def errors_and_audit(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Authenticate, translate ticket errors to HTTP answers, and audit every call."""
    principal = None
    status = 500
    api = request.path.startswith("/api/")  # the web pages use sessions (bot.web)
    try:
        if api and request.path not in PUBLIC:
            principal = _principal(request)
            if principal is None:
                raise ApiError(401, "unauthorized", "请提供有效的访问令牌。",
                               "missing or unknown bearer token")
            request["principal"] = principal
        response = await handler(request)
        status = response.status
        return response
    except ApiError as err:
        status = err.status_code
        raise
    except web.HTTPException as err:  # redirects after a login, page 403s, CSRF refusals
        status = err.status
        if api and status in ROUTING_ERRORS:  # the router's own plain-text answers
            raise ApiError(status, "not_found" if status == 404 else "invalid",
                           ROUTING_ERRORS[status], f"{request.method} {request.path}: "
                           f"{err.reason}") from None
        raise
    except TicketNotFound as err:
        status = 404
        raise ApiError(404, "not_found", "没有找到该工单。", str(err)) from None
    except IllegalTransition as err:
        status = 409
        now = STATUS_SHORT.get(err.current.value, err.current.value)
        raise ApiError(409, "illegal_transition",
                       f"工单当前状态为“{now}”，不能执行此操作。", str(err)) from None
    except ConcurrentUpdate as err:
        status = 409
        raise ApiError(409, "conflict", "工单已被他人更新，请刷新后重试。", str(err)) from None
    except InvalidTicket as err:
        status = 400
        raise ApiError(400, "invalid", "请求内容不完整或有误，请检查后重试。", str(err)) from None
    except TicketError as err:
        status = 400
        raise ApiError(400, "invalid", "请求无法执行。", str(err)) from None
    except SQLAlchemyError:
        status = 503
        logger.exception("Ticket database error on %s %s", request.method, request.path)
        raise ApiError(503, "unavailable", "工单系统暂时不可用，请稍后重试。",
                       "ticket database unavailable") from None
    finally:
        if audited(request):
            await _audit(request, principal, status)


async def _audit(request: web.Request, principal: Principal | None, status: int) -> None:
    """Who (token holder or signed-in user), what (method, path), which ticket, result."""
    session = request.get("session")
    if principal is not None:
        actor, role = principal.name, principal.role
    elif session is not None:
        actor, role = session.user.username, session.user.role
    else:  # a login names its user once it succeeded (bot.web.auth.login)
        actor, role = request.get("audit_actor") or "anonymous", "-"
    row = {"at": datetime.now(timezone.utc), "actor": actor[:100], "role": role,
           "method": request.method, "path": request.path[:300], "status": status,
           "number": request.match_info.get("number") or request.get("audit_number")}

    def write() -> None:
        with request.app[BACKEND].engine.begin() as conn:
            conn.execute(insert(api_audit).values(**row))
    try:
        await asyncio.to_thread(write)
    except SQLAlchemyError:
        logger.error("Audit record not written: %s %s by %s -> %d", row["method"],
                     row["path"], row["actor"], status)
