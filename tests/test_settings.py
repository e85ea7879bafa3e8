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
