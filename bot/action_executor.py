"""The custom actions run inside the Rasa process: ``action_endpoint: url:
"inprocess://actions"`` in endpoints.yml (``GOVBOT_ACTIONS=inprocess``).

Rasa calls its action endpoint with the tracker and the domain as JSON over HTTP for
every custom action and form validation; in process the same call goes to rasa_sdk's
own executor directly — no HTTP, no JSON encoding and decoding of the conversation —
and errors come back as the HTTP action server would report them (a rejection is
Rasa's ``ActionExecutionRejection``, an unknown action an error), so Rasa's handling
is unchanged. The HTTP action server stays available for scaling out
(``GOVBOT_ACTIONS=http``, the actions on their own processes or machines).

Installed by ``bot.rasa_compat.install`` (``python -m bot.server``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

logger = logging.getLogger(__name__)

SCHEME = "inprocess://"
_executor: Any = None


def executor() -> Any:
    """rasa_sdk's executor with govbot's actions, built and warmed up on first use."""
    global _executor
    if _executor is None:
        from rasa_sdk.executor import ActionExecutor

        from actions.serve import warm_up

        built = ActionExecutor()
        built.register_package("actions")
        try:
            logger.info("Actions in process; knowledge base warmed up in %.1f s", warm_up())
        except Exception:  # noqa: BLE001 - the actions still run; answers report problems
            logger.exception("Knowledge-base warm-up failed")
        _executor = built
    return _executor


async def run(action_call: dict[str, Any]) -> dict[str, Any]:
    """What the HTTP action server would answer for ``action_call``."""
    from rasa.utils.endpoints import ClientResponseError
    from rasa_sdk.interfaces import ActionExecutionRejection, ActionNotFoundException

    try:
        result = await executor().run(action_call)
    except ActionExecutionRejection as e:
        raise ClientResponseError(400, "Bad Request", json.dumps(
            {"error": e.message, "action_name": e.action_name})) from None
    except ActionNotFoundException as e:
        raise ClientResponseError(404, "Not Found", json.dumps(
            {"error": e.message, "action_name": e.action_name})) from None
    return result or {"events": [], "responses": []}
