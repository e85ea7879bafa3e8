"""Several Rasa replicas behind nginx on one machine: ``govbot cluster --replicas N``.

Production mode only (the replicas share conversations through PostgreSQL and the
Redis lock store). One web application, N pairs of action server + Rasa server on
consecutive ports, and nginx (Debian's package) in front on ``--port``: the
channels' webhooks go round-robin to the Rasa replicas (a replica that refuses
connections is skipped), everything else to the web application. Rasa's own HTTP
API (``/model``, ``/conversations``) is not exposed through the proxy.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import jinja2

from bot.channels.rest_protocol import RETRY_TEXT
from bot.resources import RESOURCES
from bot.runner import Services, wait_until_up
from bot.settings import Settings, SettingsError
from bot.supervisor import Member, Supervisor, read_state

logger = logging.getLogger(__name__)

def nginx_conf(**values: object) -> str:
    """The proxy's configuration from ``bot/resources/nginx.conf.j2`` (every value needed)."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(RESOURCES), autoescape=False,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
                             trim_blocks=True, lstrip_blocks=True)
    return env.get_template("nginx.conf.j2").render(**values)


@dataclass
class Cluster:
    settings: Settings
    model: Path
    run_dir: Path
    replicas: int = 2
    port: int = 8080
    members: list[Services] = field(default_factory=list)
    web: Services | None = None
    nginx: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        if self.settings.mode != "production":
            raise SettingsError("govbot cluster needs GOVBOT_MODE=production (replicas share "
                                "conversations through PostgreSQL and Redis)")
        if not 1 <= self.replicas <= 16:
            raise SettingsError("--replicas must be 1 to 16")
        if shutil.which("nginx") is None:
            raise SettingsError("nginx is not installed (Debian: apt install nginx-light)")

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.port}"

    def replica_settings(self, i: int) -> Settings:
        s = self.settings
        return replace(s, rasa_port=s.rasa_port + i, action_port=s.action_port + i)

    def start(self, timeout: float = 180.0) -> None:
        from bot.production import check_services

        check_services(self.settings)
        from bot.kb.setup import refresh_knowledge_base

        refresh_knowledge_base(self.settings)
        try:
            # nginx is the web application's trusted proxy (client addresses for logins)
            self.web = Services(replace(self.settings, trusted_proxies=self.settings.host),
                                self.model, self.run_dir / "web")
            self.web.start_api(members_file=self.members_file)
            self.web._spawn("event-consumer", [sys.executable, "-m", "bot.cli", "events",
                                               "consume"])
            for i in range(self.replicas):
                member = Services(self.replica_settings(i), self.model,
                                  self.run_dir / f"replica-{i}")
                self.members.append(member)
                member.start_actions()
                member.start_rasa(timeout)
            self.start_proxy()
        except BaseException:
            self.stop()
            raise

    def start_proxy(self) -> None:
        run = self.run_dir / "nginx"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (run / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        s = self.settings
        conf = run / "nginx.conf"
        retry = json.dumps([{"recipient_id": "", "text": RETRY_TEXT}], ensure_ascii=False)
        conf.write_text(nginx_conf(run=run, host=s.host, port=self.port, web_port=s.api_port,
                                   rasa_ports=[m.settings.rasa_port for m in self.members],
                                   retry=retry.replace("'", "\\'")),
                        encoding="utf-8")
        self.nginx = self.spawn_proxy()
        wait_until_up(f"{self.url}/api/v1/health", self.nginx, 30, "nginx",
                      run / "nginx-error.log")

    def spawn_proxy(self) -> subprocess.Popen:
        run = self.run_dir / "nginx"
        with open(run / "nginx.out", "ab") as log:
            return subprocess.Popen(["nginx", "-p", str(run), "-c", str(run / "nginx.conf"),
                                     "-g", "daemon off;"], stdout=log, stderr=subprocess.STDOUT)

    def stop(self) -> None:
        """nginx first (no new requests), then each Rasa replica finishes its in-flight
        turns (SIGTERM: Sanic's graceful shutdown), then the rest."""
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # graceful: finish open connections
            try:
                self.nginx.wait(15)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
                self.nginx.wait()
        for member in self.members:
            member.stop()
        if self.web:
            self.web.stop()

    @property
    def members_file(self) -> Path:
        return self.run_dir / "members.json"

    def supervised(self) -> list[Member]:
        """Every process of the cluster as a supervised member (bot/supervisor.py)."""
        members = self.web.supervised() if self.web else []
        for i, replica in enumerate(self.members):
            members += replica.supervised(f"replica {i} ")
        if self.nginx:
            def proxy() -> subprocess.Popen:
                self.nginx = self.spawn_proxy()
                return self.nginx
            members.append(Member("nginx", proxy, self.nginx, f"{self.url}/nginx-health"))
        return members

    def wait(self) -> int:
        """Keep every member serving — a dead one is restarted while the others serve —
        until Ctrl+C / SIGTERM."""
        return Supervisor(self.supervised(), self.members_file).run()


class ClusterProcess:
    """``govbot cluster`` started as a child process, as users start it, for the tests and
    ``bench/faults.py``: its members' states come from the supervisor's state file, and
    ``stop`` sends SIGTERM (a deliberate stop)."""

    def __init__(self, env: dict[str, str], var: Path, port: int, replicas: int = 2,
                 model: Path | None = None) -> None:
        self.env, self.var, self.port = env, var, port
        self.url = f"http://127.0.0.1:{port}"
        self.args = [sys.executable, "-m", "bot.cli", "cluster", "--replicas", str(replicas),
                     "--port", str(port), *(["--model", str(model)] if model else [])]
        self.log = var / "cluster-command.log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 600) -> None:
        """Start it and wait until every member serves (RuntimeError naming the log if it
        stops or does not come up)."""
        self.var.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(self.args, env={**os.environ, **self.env},
                                            cwd=self.env.get("GOVBOT_HOME"), stdout=out,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"govbot cluster stopped; see {self.log}")
            members = self.members()
            if members and all(m["state"] == "up" for m in members.values()):
                return
            time.sleep(1)
        raise RuntimeError(f"govbot cluster did not come up in {timeout:.0f} s; see {self.log}")

    def members(self) -> dict[str, dict]:
        return read_state(self.var / "cluster" / "members.json")

    def pid(self, member: str) -> int:
        return self.members()[member]["pid"]

    def stop(self, timeout: float = 90) -> int | None:
        """SIGTERM, and its exit code (None when it was not running)."""
        if self.process is None or self.process.poll() is not None:
            return None
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()
