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
        self.processes[name] = process
        return process, log

    def start_actions(self, timeout: float = 60.0) -> None:
        s = self.settings
        if s.actions == "inprocess":  # the Rasa server runs them (bot/action_executor.py)
            return
        try:
            actions, log = self._spawn("action-server", [
                sys.executable, "-m", "actions.serve", "--actions", "actions",
                "--port", str(s.action_port)], SANIC_HOST=s.host)  # default: 0.0.0.0
            wait_until_up(f"http://{s.host}:{s.action_port}/health", actions, timeout,
                          "the action server", log)
        except BaseException:
            self.stop()
            raise

    @property
    def api_url(self) -> str:
        return f"http://{self.settings.host}:{self.settings.api_port}/api/v1"

    def start_api(self, timeout: float = 60.0) -> None:
        """The department API (it migrates the ticket database, so it starts first)."""
        try:
            api, log = self._spawn("web", [sys.executable, "-m", "bot.cli", "web"])
            wait_until_up(f"{self.api_url}/health", api, timeout, "the web application", log)
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
            rasa, log = self._spawn("rasa-server", [
                sys.executable, "-m", "bot.server", "run", "--model", str(self.model),
                "--endpoints", str(self.endpoints or endpoints_file(s, self.run_dir)),
                "--credentials", str(self.credentials or s.credentials_file),
                "--interface", s.host, "--port", str(s.rasa_port), "--enable-api"])
            # up = the model loaded and one warm-up turn run (bot/rasa_compat.py)
            wait_until_up(self.rasa_api("/status"), rasa, timeout, "the Rasa server", log)
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

    def wait(self) -> int:
        return wait_any(self.processes)


def wait_any(processes: dict[str, subprocess.Popen]) -> int:
    """Block until one of the processes exits; return its exit code (1 for 0: a process
    that stops by itself is a failure of the whole group)."""
    while True:
        for name, process in processes.items():
            code = process.poll()
            if code is not None:
                logger.error("%s exited with code %s; stopping.", name, code)
                return code or 1
        time.sleep(0.5)


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
