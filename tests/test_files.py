"""Files holding secrets are readable by their owner only from the first byte (issue 16)."""

import os
import stat

import yaml

from bot.files import write_private
from bot.http.tokens import add_token, load_tokens


def mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_a_private_file_is_0600_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        path = tmp_path / "sub" / "secret.yml"
        write_private(path, "password: x\n")
        assert mode(path) == 0o600 and path.read_text() == "password: x\n"
        path.chmod(0o644)  # an older, readable file is replaced by a private one
        write_private(path, "password: y\n")
        assert mode(path) == 0o600 and path.read_text() == "password: y\n"
    finally:
        os.umask(old)
    assert [p.name for p in path.parent.iterdir()] == ["secret.yml"]  # no temporary left


def test_token_and_endpoint_files_are_private(settings, tmp_path):
    from dataclasses import replace

    from bot.runner import endpoints_file

    tokens = tmp_path / "api_tokens.yml"
    add_token(tokens, "ops", "admin")
    assert mode(tokens) == 0o600 and len(load_tokens(tokens)) == 1
    local = replace(settings, mode="production", actions="http",
                    database_url="postgresql://govbot:secret@127.0.0.1/test",
                    redis_url="redis://127.0.0.1:6379/0",
                    rabbitmq_url="amqp://guest:guest@127.0.0.1:5672/")
    derived = endpoints_file(local, tmp_path / "run")
    assert derived != settings.endpoints_file and mode(derived) == 0o600
    derived_config = yaml.safe_load(derived.read_text())
    assert derived_config["action_endpoint"]["url"].startswith("http")
    assert derived_config["tracker_store"]  # the file that carries the passwords
