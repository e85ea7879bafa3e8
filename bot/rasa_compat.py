"""Targeted fixes to Rasa Open Source 3.6 internals, installed explicitly at start-up.

Rasa validates every action-server response with ``jsonschema.validate``, which
re-checks the (large) response schema against the JSON-Schema meta-schema on
every call: about 13 ms per custom action on these 2-core machines, more than
the whole NLU. ``install()`` replaces that method with one that checks the
schema once and reuses the compiled validator — same checks, same error message.

It is applied by ``python -m bot.server`` (what ``govbot run`` starts); a plain
``rasa run`` behaves as upstream Rasa, only slower.
"""

from __future__ import annotations

from typing import Any


def install() -> None:
    from jsonschema.exceptions import best_match
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.constants import DOCS_BASE_URL

    spec = RemoteAction.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)
    validator = cls(spec)

    def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
        error = best_match(validator.iter_errors(result))
        if error is None:
            return True
        error.message += (  # the text Rasa itself appends
            ". Failed to validate Action server response from API, make sure your "
            "response from the Action endpoint is valid. For more information about "
            f"the format visit {DOCS_BASE_URL}/custom-actions")
        raise error

    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
