"""Shared fixtures: the project settings, a current trained model, a parser, live servers."""

from __future__ import annotations

import contextlib
import os
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from bot.logs import quiet_rasa_environment
from bot.settings import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session", autouse=True)
def scratch_var(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Run-time data of this test run (ticket database, outbox, tokens) goes to a scratch
    folder, never to the project's var/; child processes inherit it."""
    var = tmp_path_factory.mktemp("var")
    saved = os.environ.get("GOVBOT_VAR_DIR")
    os.environ["GOVBOT_VAR_DIR"] = str(var)
    yield var
    if saved is None:
        os.environ.pop("GOVBOT_VAR_DIR", None)
    else:
        os.environ["GOVBOT_VAR_DIR"] = saved


@pytest.fixture(scope="session")
def settings(scratch_var: Path) -> Settings:
    quiet_rasa_environment()
    return load_settings({"GOVBOT_HOME": str(ROOT), "GOVBOT_VAR_DIR": str(scratch_var)})


@pytest.fixture(scope="session")
def model_file(settings: Settings) -> Path:
    """The project model, trained first when the training inputs changed."""
    from bot.model import train

    with contextlib.redirect_stdout(sys.stderr):
        return train(settings).model


@pytest.fixture(scope="session")
def parser(model_file: Path):
    from bot.parsing import NluParser

    p = NluParser(model_file)
    yield p
    p.close()


@pytest.fixture(scope="session")
def services(settings: Settings, model_file: Path, tmp_path_factory: pytest.TempPathFactory):
    """The department API, the action server and the Rasa server, running for real on
    free loopback ports."""
    from bot.runner import Services
    from bot.shell import free_port

    live = replace(settings, rasa_port=free_port(), action_port=free_port(),
                   api_port=free_port())
    run_dir = tmp_path_factory.mktemp("run")
    # the action server keeps its tickets in a scratch SQLite file, not in var/
    saved = os.environ.get("GOVBOT_DATABASE_URL")
    os.environ["GOVBOT_DATABASE_URL"] = f"sqlite:///{run_dir / 'tickets.db'}"
    from bot.api.tokens import add_token

    tokens = {"admin": add_token(live.api_tokens_file, "管理员", "admin"),
              "handler": add_token(live.api_tokens_file, "金融办张三", "handler",
                                   "龙游县金融工作服务中心"),
              "agent": add_token(live.api_tokens_file, "话务员", "agent")}
    svc = Services(live, model_file, run_dir)
    svc.tokens = tokens  # bearer tokens of the department API, by role
    try:
        svc.start()
        yield svc
    finally:
        svc.stop()
        if saved is None:
            os.environ.pop("GOVBOT_DATABASE_URL", None)
        else:
            os.environ["GOVBOT_DATABASE_URL"] = saved
