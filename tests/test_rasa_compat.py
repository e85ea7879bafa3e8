"""The cached action-result validation accepts and rejects exactly what Rasa's own does."""

import jsonschema
import pytest
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

from bot import rasa_compat

CASES = [
    ({"events": [], "responses": []}, True),
    ({"events": [{"event": "slot", "name": "region", "value": "龙游县"}],
      "responses": [{"text": "好的"}]}, True),
    ({"events": "not a list", "responses": []}, False),
    ({"events": [{"event": "no_such_event"}], "responses": []}, False),
    ({"events": [], "responses": "text"}, False),
]


@pytest.fixture(scope="module")
def action():
    original = RemoteAction._validate_action_result
    rasa_compat.install()
    yield RemoteAction("action_x", EndpointConfig("http://127.0.0.1:1/webhook"))
    RemoteAction._validate_action_result = original


@pytest.mark.parametrize("result,valid", CASES)
def test_same_verdict_as_jsonschema(action, result, valid):
    upstream_valid = True
    try:
        jsonschema.validate(result, RemoteAction.action_response_format_spec())
    except jsonschema.ValidationError:
        upstream_valid = False
    assert upstream_valid == valid
    if valid:
        assert action._validate_action_result(result) is True
    else:
        with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action"):
            action._validate_action_result(result)
