"""The deployment units in deploy/: the systemd units parse (``systemd-analyze verify``)
and carry restart and hardening settings; the nginx site file passes ``nginx -t``; the
nginx site's "please retry" is the REST channel's own."""

import configparser
import shutil
import subprocess
from pathlib import Path

import pytest

from bot.channels.rest_protocol import RETRY_TEXT

ROOT = Path(__file__).resolve().parent.parent
UNITS = sorted((ROOT / "deploy" / "systemd").glob("*.service"))
HARDENING = {"NoNewPrivileges": "yes", "ProtectSystem": "strict", "ProtectHome": "yes",
             "PrivateTmp": "yes", "User": "govbot"}


def unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def test_every_process_kind_has_a_hardened_unit_that_restarts():
    names = {p.name for p in UNITS}
    assert {"govbot-rasa@.service", "govbot-actions@.service", "govbot-web.service",
            "govbot-events.service", "govbot-jobs.service"} <= names
    for path in UNITS:
        service = unit(path)["Service"]
        assert {k: service.get(k) for k in HARDENING} == HARDENING, path.name
        assert service.get("MemoryMax"), path.name
        if service.get("Type") != "oneshot":
            assert service.get("Restart") in ("on-failure", "always"), path.name
            assert service.get("KillSignal") == "SIGTERM", path.name


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed")
    # the units as installed under /opt/govbot, pointed at this checkout's executables
    for path in [*UNITS, *(ROOT / "deploy" / "systemd").glob("*.timer")]:
        text = path.read_text(encoding="utf-8").replace("/opt/govbot", str(ROOT))
        name = path.name.replace("@.", "@0.")
        (tmp_path / name).write_text(text, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", "--man=no",
                             *sorted(str(p) for p in tmp_path.iterdir())],
                            capture_output=True, text=True, timeout=120)
    problems = [line for line in (result.stdout + result.stderr).splitlines()
                if str(tmp_path) in line and "EnvironmentFile" not in line]
    assert result.returncode == 0 or not problems, result.stdout + result.stderr
    assert not problems, problems


def test_the_nginx_site_passes_nginx_t(tmp_path):
    if shutil.which("nginx") is None:
        pytest.skip("nginx is not installed")
    site = (ROOT / "deploy" / "nginx" / "govbot.conf").read_text(encoding="utf-8")
    assert RETRY_TEXT in site
    conf = tmp_path / "nginx.conf"
    conf.write_text(f"""pid {tmp_path}/nginx.pid;
error_log {tmp_path}/error.log;
events {{}}
http {{
    access_log off;
    client_body_temp_path {tmp_path}; proxy_temp_path {tmp_path};
    fastcgi_temp_path {tmp_path}; uwsgi_temp_path {tmp_path}; scgi_temp_path {tmp_path};
    include {ROOT / "deploy" / "nginx" / "govbot.conf"};
}}
""", encoding="utf-8")
    site_conf = (ROOT / "deploy" / "nginx" / "govbot.conf")
    assert site_conf.is_file()
    result = subprocess.run(["nginx", "-t", "-p", str(tmp_path), "-c", str(conf)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "syntax is ok" in result.stderr
