"""Replies to messages that carry nothing to act on: empty or off-topic."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.executor import CollectingDispatcher

from bot.text import has_words


def unclear_response(message: dict[str, Any]) -> str:
    """Which response fits an out-of-scope message: an empty one asks for words."""
    if not has_words(message.get("text") or ""):
        return "utter_empty_message"
    return "utter_out_of_scope"


class ActionHandleUnclear(Action):
    def name(self) -> str:
        return "action_handle_unclear"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        from actions.demand import ask_for_domain
        from bot.dialogue import is_vague

        text = tracker.latest_message.get("text") or ""
        if is_vague(text):  # "最近太难了": an enterprise in difficulty, not chatter
            return ask_for_domain(dispatcher, text)
        dispatcher.utter_message(response=unclear_response(tracker.latest_message))
        return []
