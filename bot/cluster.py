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
import shutil
import signal
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

from bot.channels.rest_protocol import RETRY_TEXT
from bot.runner import Services, refresh_knowledge_base, wait_any, wait_until_up
from bot.settings import Settings, SettingsError

logger = logging.getLogger(__name__)

NGINX_CONF = """\
worker_processes 1;
pid {run}/nginx.pid;
error_log {run}/nginx-error.log warn;
events {{ worker_connections 2048; }}
http {{
    # the path without its query (which may carry a conversation id)
    log_format upstream '$remote_addr [$time_local] "$request_method $uri" $status '
                        '$upstream_addr $request_time';
    access_log {run}/nginx-access.log upstream;
    client_body_temp_path {run}/tmp/body;
    proxy_temp_path {run}/tmp/proxy;
    fastcgi_temp_path {run}/tmp/fastcgi;
    uwsgi_temp_path {run}/tmp/uwsgi;
    scgi_temp_path {run}/tmp/scgi;
    client_max_body_size 64k;
    upstream rasa {{
{rasa_servers}
    }}
    upstream web {{ server {host}:{web_port}; }}
    server {{
        listen {host}:{port};
        # a connection refused or not accepted within 2 s goes to the next replica;
        # a request already sent is never sent again (POST is not idempotent)
        location /webhooks/ {{
            proxy_pass http://rasa;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
        }}
        # the REST channel's users get a clear "please retry" when no replica answers
        # (WeChat and WeCom retry by themselves on an error status)
        location /webhooks/rest/ {{
            proxy_pass http://rasa;
            proxy_next_upstream error timeout http_502 http_503;
            proxy_connect_timeout 2s;
            proxy_read_timeout 30s;
            proxy_intercept_errors on;
            error_page 502 503 504 = @retry;
        }}
        location @retry {{
            default_type application/json;
            return 200 '{retry}';
        }}
        location /model/ {{ return 404; }}
        location /conversations/ {{ return 404; }}
        location / {{
            proxy_pass http://web;
            # the web application believes this header from nginx only (trusted proxy)
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
        }}
    }}
}}
"""


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
        refresh_knowledge_base(self.settings)
        try:
            # nginx is the web application's trusted proxy (client addresses for logins)
            self.web = Services(replace(self.settings, trusted_proxies=self.settings.host),
                                self.model, self.run_dir / "web")
            self.web.start_api()
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
        # max_fails=0: a busy replica is never taken out of rotation (a dead one on this
        # host refuses connections at once, and the request goes to the next)
        servers = "\n".join(f"        server {s.host}:{m.settings.rasa_port} max_fails=0;"
                            for m in self.members)
        conf = run / "nginx.conf"
        retry = json.dumps([{"recipient_id": "", "text": RETRY_TEXT}], ensure_ascii=False)
        conf.write_text(NGINX_CONF.format(run=run, rasa_servers=servers, host=s.host,
                                          web_port=s.api_port, port=self.port,
                                          retry=retry.replace("'", "\\'")),
                        encoding="utf-8")
        log = open(run / "nginx.out", "ab")  # noqa: SIM115 - kept open for the process
        self.nginx = subprocess.Popen(["nginx", "-p", str(run), "-c", str(conf), "-g",
                                       "daemon off;"], stdout=log, stderr=subprocess.STDOUT)
        wait_until_up(f"{self.url}/api/v1/health", self.nginx, 30, "nginx",
                      run / "nginx-error.log")

    def stop(self) -> None:
        """nginx first (no new requests), then each Rasa replica finishes its in-flight
        turns (SIGTERM: Sanic's graceful shutdown), then the rest."""
        if self.nginx and self.nginx.poll() is None:
            self.nginx.send_signal(signal.SIGQUIT)  # graceful: finish open connections
            try:
                self.nginx.wait(15)
            except subprocess.TimeoutExpired:
                self.nginx.kill()
        for member in self.members:
            member.stop()
        if self.web:
            self.web.stop()

    def wait(self) -> int:
        processes = {f"replica {i} {name}": p for i, m in enumerate(self.members)
                     for name, p in m.processes.items()}
        if self.web:
            processes.update(self.web.processes)
        if self.nginx:
            processes["nginx"] = self.nginx
        return wait_any(processes)

