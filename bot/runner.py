"""Starting the assistant's processes: the department API, the action server, Rasa.

``govbot run`` uses ``Services`` to start both on 127.0.0.1, wait until they
answer, print how to talk to them, and stop them cleanly on Ctrl+C / SIGTERM.
The tests use the same class to run a real server on free ports.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from bot.files import write_private
from bot.settings import Settings, settings_environment, with_rasa_token
from bot.supervisor import Member, Supervisor

logger = logging.getLogger(__name__)


class StartupError(RuntimeError):
    """A process did not come up; the message says which and where its log is."""


def child_environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("RASA_TELEMETRY_ENABLED", "false")
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    return env


def action_url(settings: Settings) -> str:
    """Where Rasa runs the custom actions: the action server, or its own process."""
    from bot.action_executor import SCHEME

    if settings.actions == "inprocess":
        return f"{SCHEME}actions"
    return f"http://{settings.host}:{settings.action_port}/webhook"


def endpoints_file(settings: Settings, run_dir: Path) -> Path:
    """``endpoints.yml`` with the action server URL matching the configured port and the
    tracker store (SQLite in the embedded default; in production mode PostgreSQL, with the
    lock store and event broker: bot/production.py)."""
    from bot.production import rasa_endpoints

    raw = yaml.safe_load(settings.endpoints_file.read_text(encoding="utf-8")) or {}
    raw["action_endpoint"] = {"url": action_url(settings)}
    raw.update(rasa_endpoints(settings))
    derived = run_dir / "endpoints.yml"
    # it may hold the database and broker passwords: never readable by others
    write_private(derived, yaml.safe_dump(raw, allow_unicode=True))
    return derived


def actions_command(settings: Settings) -> tuple[list[str], dict[str, str]]:
    """The action server's command line and extra environment."""
    return ([sys.executable, "-m", "actions.serve", "--actions", "actions",
             "--port", str(settings.action_port)], {"SANIC_HOST": settings.host})


def rasa_command(settings: Settings, model: Path, endpoints: Path,
                 credentials: Path | None = None) -> list[str]:
    """One Rasa server's command line (its HTTP API needs the token of the settings)."""
    return [sys.executable, "-m", "bot.server", "run", "--model", str(model),
            "--endpoints", str(endpoints),
            "--credentials", str(credentials or settings.credentials_file),
            "--interface", settings.host, "--port", str(settings.rasa_port), "--enable-api"]


def wait_until_up(url: str, process: subprocess.Popen, timeout: float, name: str,
                  log: Path) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise StartupError(f"{name} exited with code {process.returncode}; see {log}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    where = url.split("?")[0]  # never the token
    raise StartupError(f"{name} did not answer at {where} within {timeout:.0f} s; see {log}")


@dataclass
class Services:
    settings: Settings
    model: Path
    run_dir: Path
    endpoints: Path | None = None  # default: endpoints.yml with the configured action port
    credentials: Path | None = None  # default: the project's credentials.yml
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    #: how each process was started, to start it again (bot/supervisor.py)
    commands: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Rasa's HTTP API answers only with this token; every process gets it through
        # the environment (never on a command line, which other users can read)
        self.settings = with_rasa_token(self.settings)

    def rasa_api(self, path: str) -> str:
        return self.settings.rasa_api(path)

    @property
    def database_url(self) -> str:
        """The ticket database the action server uses (the environment wins, as there)."""
        return os.environ.get("GOVBOT_DATABASE_URL") or self.settings.ticket_database_url

    @property
    def rasa_url(self) -> str:
        return self.settings.rasa_url

    def _spawn(self, name: str, args: list[str], **env: str) -> tuple[subprocess.Popen, Path]:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log = self.run_dir / f"{name}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(args, cwd=self.settings.root,
                                       env={**child_environment(),
                                            **settings_environment(self.settings), **env},
                                       stdout=out, stderr=subprocess.STDOUT)
        self.processes[name], self.commands[name] = process, (args, env)
        return process, log

    def respawn(self, name: str) -> subprocess.Popen:
        """Start process ``name`` again as it was started (its log goes on)."""
        args, env = self.commands[name]
        return self._spawn(name, args, **env)[0]

    def health_url(self, name: str) -> str | None:
        """Where process ``name`` answers 200 while it serves (None: no such URL)."""
        s = self.settings
        return {"web": f"{self.api_url}/health",
                "action-server": f"http://{s.host}:{s.action_port}/health",
                "rasa-server": self.rasa_api("/status")}.get(name)

    def supervised(self, prefix: str = "") -> list[Member]:
        """Each running process as a supervised member (bot/supervisor.py)."""
        return [Member(f"{prefix}{name}", lambda name=name: self.respawn(name), process,
                       self.health_url(name)) for name, process in self.processes.items()]

    def start_actions(self, timeout: float = 60.0) -> None:
        s = self.settings
        if s.actions == "inprocess":  # the Rasa server runs them (bot/action_executor.py)
            return
        try:
            args, env = actions_command(s)  # SANIC_HOST: Sanic's default is 0.0.0.0
            actions, log = self._spawn("action-server", args, **env)
            wait_until_up(self.health_url("action-server"), actions, timeout,
                          "the action server", log)
        except BaseException:
            self.stop()
            raise

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.api_port}/api/v1"

    def start_api(self, timeout: float = 60.0, members_file: Path | None = None) -> None:
        """The department API (it migrates the ticket database, so it starts first); it
        reports the supervised processes of ``members_file`` (default: this group's)."""
        state = str(members_file or self.members_file)
        try:
            api, log = self._spawn("web", [sys.executable, "-m", "bot.cli", "web"],
                                   GOVBOT_MEMBERS_FILE=state)
            wait_until_up(self.health_url("web"), api, timeout, "the web application", log)
        except BaseException:
            self.stop()
            raise

    def start(self, timeout: float = 180.0) -> None:
        """Bring the knowledge base up to date, start the web application, the action
        server, then the Rasa server; wait until each answers."""
        from bot.production import check_services

        check_services(self.settings)  # production: PostgreSQL, Redis, RabbitMQ, or stop
        from bot.kb.setup import refresh_knowledge_base

        refresh_knowledge_base(self.settings)
        self.start_api()
        self.start_actions()
        self.start_rasa(timeout)

    def start_rasa(self, timeout: float = 180.0) -> None:
        s = self.settings
        try:
            rasa, log = self._spawn("rasa-server", rasa_command(
                s, self.model, self.endpoints or endpoints_file(s, self.run_dir),
                self.credentials))
            # up = the model loaded and one warm-up turn run (bot/rasa_compat.py)
            wait_until_up(self.health_url("rasa-server"), rasa, timeout, "the Rasa server",
                          log)
        except BaseException:
            self.stop()
            raise

    def stop(self, timeout: float = 15.0) -> None:
        for process in reversed(list(self.processes.values())):
            if process.poll() is None:
                process.terminate()
        for name, process in self.processes.items():
            try:
                process.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                logger.warning("%s did not stop within %.0f s; killing it.", name, timeout)
                process.kill()
                process.wait()
        self.processes.clear()

    @property
    def members_file(self) -> Path:
        return self.run_dir / "members.json"

    def wait(self) -> int:
        """Keep every process serving (restarted when it dies) until Ctrl+C / SIGTERM."""
        return Supervisor(self.supervised(), self.members_file).run()


def how_to_talk(services: Services) -> str:
    s = services.settings
    url = services.rasa_url
    return f"""
govbot is running (logs in {services.run_dir}):
  Rasa server     {url}   (REST channel, HTTP API)
  action server   http://{s.host}:{s.action_port}
  web pages       http://{s.host}:{s.api_port}/chat (web chat), /console, /queue, /dashboard
                  (first admin: uv run govbot web user add --username admin --role admin)
  department API  {services.api_url}   (docs/api/openapi.yaml; tokens: govbot api token add)

Talk to it:
  curl -s {url}/webhooks/rest/webhook -H 'Content-Type: application/json' \\
       -d '{{"sender": "demo", "message": "我们厂的过桥资金下个月到期，银行说不续贷了"}}'
  curl -s "{url}/model/parse?token=$(cat {s.rasa_token_file})" \\
       -d '{{"text": "高新技术企业认定要满足哪些条件"}}'
  uv run govbot shell        # chat in a terminal
Press Ctrl+C to stop.
"""
