"""Targeted fixes to Rasa Open Source 3.6 internals, installed explicitly at start-up.

Rasa validates every action-server response with ``jsonschema.validate``, which
re-checks the (large) response schema against the JSON-Schema meta-schema on
every call: about 13 ms per custom action on these 2-core machines, more than
the whole NLU. ``install()`` replaces that method with one that checks the
schema once and reuses the compiled validator — same checks, same error message.

Three dialogue fixes ride along, because Rasa 3.6 offers no hook for them:

* **Typed buttons**: a message that is exactly the title of a button the assistant
  showed in its last reply (确认提交, 政策服务 …) is handled as that button's payload.
  WeChat users type what they see; the web chat and the REST channel get the same.
* **Ending a hand-over**: a paused (handed-over) conversation ignores every message
  except Rasa's ``/restart``; a ``cancel_handoff`` message (取消转人工) resumes it first,
  so the user can take the assistant back.
* **Expired drafts**: when a session expires (``session_config`` in domain.yml) with a
  form unfinished, the new session starts by saying so; the draft's slots are not
  carried over, the enterprise's details are. (In-process, so a new conversation needs
  no action server.)

Rasa's dask graph runner is replaced by one that orders the graph once and calls its
nodes in that order (the same nodes, the same inputs: ``bot/graph_runner.py``).

It is applied by ``python -m bot.server`` (what ``govbot run`` starts); a plain
``rasa run`` behaves as upstream Rasa, only slower and without those three.
"""

from __future__ import annotations

import logging
from typing import Any

logger = logging.getLogger(__name__)

#: intents a handed-over (paused) conversation still acts on
RESUMING_INTENTS = frozenset({"cancel_handoff"})


def install() -> None:
    _install_action_validation()
    _install_dialogue_fixes()
    _install_inprocess_actions()
    _install_sequential_graph_runner()
    _install_warm_up_turn()


def _install_warm_up_turn() -> None:
    """``rasa run`` loads its model before it accepts connections; then, still before,
    one real turn (a greeting through the whole processor: NLU, policies, the actions,
    the conversation store) runs, so the server's first answer to ``/status`` means the
    first user's turn is as fast as the next (issue #17). The greeting writes no ticket
    or demand, and the event consumer does not count its sender."""
    import rasa.core.run

    load = rasa.core.run.load_agent_on_start

    async def load_and_warm_up(*args: Any, **kwargs: Any) -> Any:
        from rasa.core.channels.channel import CollectingOutputChannel, UserMessage

        from bot.events import WARM_UP_SENDER

        agent = await load(*args, **kwargs)
        try:
            await agent.handle_message(UserMessage("你好", CollectingOutputChannel(),
                                                   WARM_UP_SENDER))
        except Exception:  # noqa: BLE001 - a cold first turn is better than no server
            logger.exception("Warm-up turn failed; the first user's turn will be slower")
        return agent

    rasa.core.run.load_agent_on_start = load_and_warm_up


def _install_sequential_graph_runner() -> None:
    """Models loaded from now on run their graphs with ``bot.graph_runner``."""
    import rasa.core.processor

    from bot.graph_runner import SequentialGraphRunner

    rasa.core.processor.DaskGraphRunner = SequentialGraphRunner  # what load_model passes


def _install_inprocess_actions() -> None:
    """An action endpoint ``inprocess://…`` runs the actions in this process
    (bot/action_executor.py); any other URL is Rasa's HTTP call, unchanged."""
    from rasa.utils.endpoints import EndpointConfig

    from bot import action_executor

    http_request = EndpointConfig.request

    async def request(self: EndpointConfig, method: str = "post", subpath: str | None = None,
                      content_type: str | None = "application/json", compress: bool = False,
                      **kwargs: Any) -> Any:
        if self.url and self.url.startswith(action_executor.SCHEME):
            return await action_executor.run(kwargs.get("json") or {})
        return await http_request(self, method, subpath, content_type, compress, **kwargs)

    EndpointConfig.request = request  # type: ignore[method-assign]


def last_buttons(events: Any) -> list[dict[str, Any]]:
    """The buttons of the assistant's last reply (its messages since the last user turn)."""
    buttons: list[dict[str, Any]] = []
    for event in reversed(list(events)):
        name = getattr(event, "type_name", None)
        if name == "user":
            break
        if name == "bot":
            buttons = [*((event.data or {}).get("buttons") or []), *buttons]
    return buttons


def typed_button(text: str, buttons: list[dict[str, Any]]) -> str | None:
    """The payload of the button whose title the user typed, if any."""
    from bot.dialogue import clean

    said = clean(text)
    if not said or text.startswith("/"):
        return None
    for b in buttons:
        if clean(str(b.get("title", ""))) == said and b.get("payload"):
            return str(b["payload"])
    return None


def _install_dialogue_fixes() -> None:
    from rasa.core.actions.action import ActionSessionStart
    from rasa.core.processor import MessageProcessor
    from rasa.shared.core.events import BotUttered, SlotSet

    from bot.dialogue import NOT_CARRIED_OVER, draft_pending, expired_draft_notice

    start_session = ActionSessionStart.run

    async def run_session_start(self: ActionSessionStart, output_channel: Any, nlg: Any,
                                tracker: Any, domain: Any) -> list[Any]:
        events = await start_session(self, output_channel, nlg, tracker, domain)
        notice = expired_draft_notice(tracker.active_loop_name, draft_pending(
            tracker.get_slot("demand"), tracker.get_slot("ticket_number")))
        kept = [e for e in events
                if not (isinstance(e, SlotSet) and e.key in NOT_CARRIED_OVER)]
        return [BotUttered(notice), *kept] if notice else kept

    ActionSessionStart.run = run_session_start  # type: ignore[method-assign]

    from rasa.shared.core.constants import ACTION_LISTEN_NAME
    from rasa.shared.core.events import ActionExecuted, ConversationResumed
    from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY

    original = MessageProcessor._handle_message_with_tracker

    async def _handle_message_with_tracker(self: MessageProcessor, message: Any,
                                           tracker: Any) -> None:
        if not message.parse_data and message.text:
            payload = typed_button(message.text, last_buttons(tracker.events))
            if payload:
                message.text = payload
        if tracker.is_paused() and not message.parse_data:
            parsed = await self.parse_message(message, tracker)
            if (parsed.get(INTENT) or {}).get(INTENT_NAME_KEY) in RESUMING_INTENTS:
                # resume as if the assistant had been listening all along
                tracker.update(ConversationResumed())
                tracker.update(ActionExecuted(ACTION_LISTEN_NAME))
            message.parse_data = parsed
        await original(self, message, tracker)

    MessageProcessor._handle_message_with_tracker = _handle_message_with_tracker  # type: ignore[method-assign]


def _install_action_validation() -> None:
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    from bot.action_executor import SCHEME

    spec = RemoteAction.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)
    validator = cls(spec)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        if (self.action_endpoint.url or "").startswith(SCHEME):
            # built in this process by rasa_sdk from govbot's own actions (whose events
            # the tests check): the schema guards what comes over HTTP from an action
            # server, another process, perhaps of another version (profiled: 6 % of a turn)
            return True
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (  # the text Rasa itself appends
            ". Failed to validate Action server response from API, make sure your "
            "response from the Action endpoint is valid. For more information about "
            f"the format visit {DOCS_BASE_URL}/custom-actions")
        raise error

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
