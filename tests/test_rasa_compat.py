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


@pytest.fixture()
def dialogue_fixes():
    from rasa.core.actions.action import ActionSessionStart
    from rasa.core.processor import MessageProcessor

    saved = ActionSessionStart.run, MessageProcessor._handle_message_with_tracker
    rasa_compat._install_dialogue_fixes()
    yield
    ActionSessionStart.run, MessageProcessor._handle_message_with_tracker = saved


def test_typed_button_titles_are_their_payloads():
    from rasa.shared.core.events import BotUttered, UserUttered

    events = [BotUttered("旧", data={"buttons": [{"title": "不相关", "payload": "/x"}]}),
              UserUttered("我们厂贷款到期了"),
              BotUttered("识别为…", data={"buttons": [
                  {"title": "需要登记", "payload": "/affirm"},
                  {"title": "类别不对", "payload": "/correct_domain"}]}),
              BotUttered("请选择", data={"buttons": [{
                  "title": "政策服务", "payload": '/choose_domain{"picked_domain":"policy"}'}]})]
    buttons = rasa_compat.last_buttons(events)
    assert [b["title"] for b in buttons] == ["需要登记", "类别不对", "政策服务"]
    assert rasa_compat.typed_button("需要登记。", buttons) == "/affirm"
    assert rasa_compat.typed_button("政策服务", buttons).startswith("/choose_domain")
    assert rasa_compat.typed_button("不相关", buttons) is None  # not offered last
    assert rasa_compat.typed_button("需要登记一下吗", buttons) is None


async def test_an_expired_draft_is_dropped_with_a_message(dialogue_fixes):
    from rasa.core.actions.action import ActionSessionStart
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.events import ActiveLoop, SlotSet
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = Domain.load("domain.yml")
    old = DialogueStateTracker.from_events("u-old", [
        SlotSet("company", "龙游县恒丰纸业有限公司"), SlotSet("mobile", "13905701234"),
        SlotSet("demand", {"id": "d", "text": "过桥资金到期"}), ActiveLoop("ticket_form"),
        SlotSet("requested_slot", "contact_name")], slots=domain.slots)
    events = await ActionSessionStart().run(None, None, old, domain)
    assert events[0].type_name == "bot"
    assert "未完成的诉求登记已超过60分钟未操作，已自动取消，没有提交任何信息" in events[0].text
    carried = {e.key: e.value for e in events if e.type_name == "slot"}
    assert carried == {"company": "龙游县恒丰纸业有限公司", "mobile": "13905701234"}

    fresh = DialogueStateTracker.from_events("u-new", [], slots=domain.slots)
    assert [e.type_name for e in await ActionSessionStart().run(None, None, fresh, domain)] \
        == ["session_started", "action"]


def test_the_sequential_graph_runner_gives_what_dask_gives(parser, settings):
    """The trained model's NLU graph on held-out messages and its policy graph on the
    conversations they make: the same outputs from the same nodes."""
    from rasa.core.channels.channel import UserMessage
    from rasa.engine.constants import PLACEHOLDER_MESSAGE, PLACEHOLDER_TRACKER
    from rasa.engine.runner.dask import DaskGraphRunner
    from rasa.shared.core.events import ActionExecuted, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker
    from rasa.shared.nlu.constants import TEXT

    from bot.examples import load_test_file
    from bot.graph_runner import SequentialGraphRunner

    processor = parser._agent.processor
    dask = DaskGraphRunner.__new__(DaskGraphRunner)
    sequential = SequentialGraphRunner.__new__(SequentialGraphRunner)
    for runner in (dask, sequential):  # the same instantiated nodes
        runner.__dict__.update(processor.graph_runner.__dict__)
    nlu, core = processor.model_metadata.nlu_target, processor.model_metadata.core_target
    tracker = DialogueStateTracker("s", processor.domain.slots)
    tracker.update(ActionExecuted("action_listen"))
    for example in load_test_file(settings.heldout_file)[:120]:
        message = UserMessage(example.text)
        runs = [runner.run(inputs={PLACEHOLDER_MESSAGE: [message]}, targets=[nlu])[nlu][0]
                for runner in (dask, sequential)]
        assert runs[0].as_dict() == runs[1].as_dict() and runs[0].get(TEXT) == example.text
        tracker.update(UserUttered(example.text, runs[0].data.get("intent"),
                                   runs[0].data.get("entities")))
        predictions = [runner.run(inputs={PLACEHOLDER_TRACKER: tracker}, targets=[core])[core]
                       for runner in (dask, sequential)]
        assert predictions[0].probabilities == predictions[1].probabilities
        assert predictions[0].policy_name == predictions[1].policy_name
        tracker.update(ActionExecuted("action_listen"))
