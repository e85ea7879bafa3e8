import socket
from dataclasses import replace

import pytest
import yaml

from bot.runner import Services, StartupError, action_url, endpoints_file


def test_the_embedded_default_keeps_conversations_in_sqlite(settings, tmp_path):
    derived = yaml.safe_load(endpoints_file(settings, tmp_path).read_text())
    assert derived["action_endpoint"]["url"] == action_url(settings)
    assert derived["tracker_store"] == {"type": "bot.tracker_store.SqliteTrackerStore",
                                        "db": str(settings.var_dir / "conversations.db")}


def test_actions_run_in_process_by_default_or_on_the_action_server(settings, tmp_path):
    derived = yaml.safe_load(endpoints_file(settings, tmp_path).read_text())
    assert settings.actions == "inprocess"
    assert derived["action_endpoint"]["url"] == "inprocess://actions"


def test_endpoints_file_follows_another_action_port(settings, tmp_path):
    moved = replace(settings, action_port=6123, actions="http")
    derived = endpoints_file(moved, tmp_path)
    assert derived.parent == tmp_path
    assert yaml.safe_load(derived.read_text())["action_endpoint"]["url"] == action_url(moved)


def test_a_taken_port_is_a_clear_startup_error(settings, model_file, tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        services = Services(replace(settings, action_port=port, actions="http"), model_file,
                            tmp_path)
        with pytest.raises(StartupError) as err:
            services.start_actions(timeout=30)
    assert "action server" in str(err.value) and str(tmp_path) in str(err.value)
    assert services.processes == {}
