import pytest

from bot.settings import SettingsError, load_settings


def test_defaults(settings):
    assert settings.host == "127.0.0.1" and settings.rasa_port == 5005


def test_bad_port_names_the_variable(settings):
    with pytest.raises(SettingsError, match="GOVBOT_RASA_PORT"):
        load_settings({"GOVBOT_HOME": str(settings.root), "GOVBOT_RASA_PORT": "abc"})
    with pytest.raises(SettingsError, match="GOVBOT_ACTION_PORT"):
        load_settings({"GOVBOT_HOME": str(settings.root), "GOVBOT_ACTION_PORT": "70000"})


def test_not_a_project_folder(tmp_path):
    with pytest.raises(SettingsError, match="config.yml"):
        load_settings({"GOVBOT_HOME": str(tmp_path)})


def test_heldout_file_is_not_training_data(settings):
    files = settings.training_files()
    assert settings.heldout_file not in files
    assert any(p.name == "dialogue.yml" for p in files)
    assert not any("kb" in p.relative_to(settings.data_dir).parts for p in files)


def test_where_the_actions_run(settings):
    home = str(settings.root)
    assert load_settings({"GOVBOT_HOME": home}).actions == "inprocess"
    assert load_settings({"GOVBOT_HOME": home, "GOVBOT_ACTIONS": "HTTP"}).actions == "http"
    production = {"GOVBOT_HOME": home, "GOVBOT_MODE": "production",
                  "GOVBOT_DATABASE_URL": "postgresql+psycopg2://127.0.0.1/test",
                  "GOVBOT_REDIS_URL": "redis://127.0.0.1:6379/0",
                  "GOVBOT_RABBITMQ_URL": "amqp://guest:guest@127.0.0.1:5672/"}
    assert load_settings(production).actions == "http"  # replicas scale out on it
    with pytest.raises(SettingsError, match="GOVBOT_ACTIONS"):
        load_settings({"GOVBOT_HOME": home, "GOVBOT_ACTIONS": "thread"})


def test_a_rasa_token_starting_with_a_dash_reaches_rasa(monkeypatch):
    """token_urlsafe may start with "-": Rasa's argument parser must still take it."""
    import argparse
    import sys

    from rasa.cli.arguments import run as run_arguments

    from bot import server

    captured = {}
    monkeypatch.setenv("GOVBOT_RASA_TOKEN", "-Xy_12")
    monkeypatch.setattr(sys, "argv", ["bot.server", "run", "--model", "m.tar.gz"])
    monkeypatch.setattr("rasa.__main__.main", lambda: captured.update(argv=list(sys.argv)))
    monkeypatch.setattr("bot.rasa_compat.install", lambda: None)
    server.main()
    parser = argparse.ArgumentParser()
    run_arguments.set_run_arguments(parser)
    assert parser.parse_args(captured["argv"][2:]).auth_token == "-Xy_12"
