"""One settings object, read once at start-up from the environment.

Every value has a default that works on one machine; the environment variables
override them (see docs/configuration.md). Nothing is read at import time.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, replace
from pathlib import Path

from bot.files import write_private


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True)
class RasaApi:
    """Where the Rasa server is, and the token its HTTP API (``/model/parse``,
    ``/conversations/…``, ``/status``) requires; the channel webhooks and ``/`` need none."""

    base: str
    token: str = ""

    def url(self, path: str) -> str:
        if not self.token:
            return f"{self.base}{path}"
        return f"{self.base}{path}{'&' if '?' in path else '?'}token={self.token}"


@dataclass(frozen=True)
class Settings:
    root: Path  # the project folder: config.yml, domain.yml, data/, models/
    host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_port: int = 5055
    database_url: str = ""  # tickets; default: SQLite file var/govbot.db
    api_port: int = 5080  # the department API
    api_tokens: str = ""  # the API token file; default var/api_tokens.yml
    job_interval: int = 300  # seconds between runs of the periodic ticket jobs
    notice_weekly_limit: int = 2  # policy notices per enterprise in any 7 days (1–50)
    followup_workdays: int = 3  # 回访: working days after resolution without a rating
    var: str = ""  # run-time data (SQLite file, outbox, API tokens); default var/
    secure_cookies: bool = False  # set when the web pages are served over HTTPS
    mode: str = "embedded"  # or "production": PostgreSQL, Redis, RabbitMQ (bot/production.py)
    redis_url: str = ""
    rabbitmq_url: str = ""
    rasa_token: str = ""  # Rasa's HTTP API token; ``govbot run`` creates var/rasa_token
    trusted_proxies: str = ""  # comma-separated addresses whose X-Forwarded-For is believed
    # "inprocess": the custom actions inside the Rasa process (the embedded default);
    # "http": on the action server (production default: replicas, scale-out)
    actions: str = "inprocess"
    # the supervisor's state file (bot/supervisor.py), set by govbot run / cluster for the
    # web application's readiness answer and metrics
    members_file: str = ""

    @property
    def var_dir(self) -> Path:
        return Path(self.var) if self.var else self.root / "var"

    @property
    def rasa_url(self) -> str:
        return f"http://{self.host}:{self.rasa_port}"

    @property
    def proxies(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.trusted_proxies.split(",") if a.strip())

    @property
    def rasa(self) -> RasaApi:
        return RasaApi(self.rasa_url, self.rasa_token)

    def rasa_api(self, path: str) -> str:
        """A URL of Rasa's HTTP API with the token."""
        return self.rasa.url(path)

    @property
    def rasa_token_file(self) -> Path:
        return self.var_dir / "rasa_token"

    @property
    def kb_dir(self) -> Path:
        """The knowledge-base index ``govbot run`` builds and the actions search."""
        return self.var_dir / "kb"

    @property
    def kb_source_dir(self) -> Path:
        """The policy documents ``govbot run`` ingests (incrementally) at start-up."""
        return self.data_dir / "kb" / "policies"

    @property
    def outbox_dir(self) -> Path:
        return self.var_dir / "outbox"

    @property
    def api_tokens_file(self) -> Path:
        return Path(self.api_tokens) if self.api_tokens else self.var_dir / "api_tokens.yml"

    @property
    def openapi_file(self) -> Path:
        return self.root / "docs" / "api" / "openapi.yaml"

    @property
    def ticket_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'govbot.db'}"

    @property
    def routing_file(self) -> Path:
        return self.root / "config" / "routing.yml"

    @property
    def holidays_file(self) -> Path:
        return self.root / "config" / "holidays.yml"

    @property
    def config_file(self) -> Path:
        return self.root / "config.yml"

    @property
    def domain_file(self) -> Path:
        return self.root / "domain.yml"

    @property
    def endpoints_file(self) -> Path:
        return self.root / "endpoints.yml"

    @property
    def credentials_file(self) -> Path:
        return self.root / "credentials.yml"

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def heldout_file(self) -> Path:
        return self.data_dir / "nlu" / "heldout" / "test.yml"

    @property
    def heldout_files(self) -> list[Path]:
        """Every held-out set (never trained on, never used for choices): the project's
        file and the independent real-style set."""
        return sorted(self.heldout_file.parent.glob("*.yml"))

    @property
    def corrections_file(self) -> Path:
        """Accepted corrections, written by ``govbot train --with-corrections``."""
        return self.data_dir / "nlu" / "corrections.yml"

    @property
    def models_dir(self) -> Path:
        return self.root / "models"

    @property
    def model_file(self) -> Path:
        return self.models_dir / "govbot.tar.gz"

    @property
    def reports_dir(self) -> Path:
        return self.root / "reports"

    def training_files(self) -> list[Path]:
        """Rasa training data: everything under data/ except the held-out test sets, the
        knowledge base's question sets (data/kb) and the common-problem sets
        (data/commons): not Rasa's, and editing them must not retrain the model."""
        left_out = (self.heldout_file.parent, self.data_dir / "kb", self.data_dir / "commons")
        return sorted(p for p in self.data_dir.rglob("*.yml")
                      if not any(folder in p.parents for folder in left_out))


def _int(env: dict[str, str], key: str, default: int, top: int = 65535,
         what: str = "a port number") -> int:
    raw = env.get(key)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"environment variable {key} must be {what}, got {raw!r}") from None
    if not 0 < value <= top:
        raise SettingsError(f"environment variable {key} must be 1–{top}, got {value}")
    return value


def load_settings(env: dict[str, str] | None = None) -> Settings:
    env = dict(os.environ if env is None else env)
    root = Path(env.get("GOVBOT_HOME") or Path.cwd()).resolve()
    if not (root / "config.yml").is_file():
        raise SettingsError(
            f"{root} is not a govbot project folder (no config.yml); run govbot from the "
            f"repository root or set GOVBOT_HOME")
    mode = _check_mode(env)
    return Settings(
        root=root,
        host=env.get("GOVBOT_HOST") or "127.0.0.1",
        rasa_port=_int(env, "GOVBOT_RASA_PORT", 5005),
        action_port=_int(env, "GOVBOT_ACTION_PORT", 5055),
        database_url=env.get("GOVBOT_DATABASE_URL") or "",
        api_port=_int(env, "GOVBOT_API_PORT", 5080),
        api_tokens=env.get("GOVBOT_API_TOKENS") or "",
        var=env.get("GOVBOT_VAR_DIR") or "",
        secure_cookies=(env.get("GOVBOT_SECURE_COOKIES") or "").lower() in ("1", "true", "yes"),
        mode=mode,
        redis_url=env.get("GOVBOT_REDIS_URL") or "",
        rabbitmq_url=env.get("GOVBOT_RABBITMQ_URL") or "",
        rasa_token=env.get("GOVBOT_RASA_TOKEN") or "",
        trusted_proxies=env.get("GOVBOT_TRUSTED_PROXIES") or "",
        members_file=env.get("GOVBOT_MEMBERS_FILE") or "",
        actions=_choice(env, "GOVBOT_ACTIONS", ("http", "inprocess") if mode == "production"
                        else ("inprocess", "http")),
        job_interval=_int(env, "GOVBOT_JOB_INTERVAL", 300, top=86400,
                          what="a number of seconds"),
        notice_weekly_limit=_int(env, "GOVBOT_NOTICE_WEEKLY_LIMIT", 2, top=50,
                                 what="a number of notices"),
        followup_workdays=_int(env, "GOVBOT_FOLLOWUP_WORKDAYS", 3, top=60,
                               what="a number of working days"),
    )


def _choice(env: dict[str, str], key: str, choices: tuple[str, ...]) -> str:
    value = (env.get(key) or choices[0]).strip().lower()
    if value not in choices:
        raise SettingsError(f"{key} must be one of {', '.join(choices)}, not {value!r}")
    return value


def _check_mode(env: dict[str, str]) -> str:
    mode = (env.get("GOVBOT_MODE") or "embedded").strip().lower()
    if mode not in ("embedded", "production"):
        raise SettingsError(f"GOVBOT_MODE must be embedded or production, not {mode!r}")
    if mode == "production":
        missing = [k for k in ("GOVBOT_DATABASE_URL", "GOVBOT_REDIS_URL", "GOVBOT_RABBITMQ_URL")
                   if not env.get(k)]
        if missing:
            raise SettingsError(f"GOVBOT_MODE=production needs {', '.join(missing)} "
                                "(see docs/operations.md, production mode)")
        if not env["GOVBOT_DATABASE_URL"].startswith("postgresql"):
            raise SettingsError("GOVBOT_MODE=production needs a PostgreSQL "
                                "GOVBOT_DATABASE_URL (postgresql+psycopg2://…)")
        if not env["GOVBOT_REDIS_URL"].startswith(("redis://", "rediss://")):
            raise SettingsError("GOVBOT_REDIS_URL must look like redis://host:6379/0")
        if not env["GOVBOT_RABBITMQ_URL"].startswith(("amqp://", "amqps://")):
            raise SettingsError("GOVBOT_RABBITMQ_URL must look like amqp://user:pass@host:5672/")
    return mode


def settings_environment(settings: Settings) -> dict[str, str]:
    """The environment that makes a child process load these same settings."""
    env = {"GOVBOT_HOME": str(settings.root), "GOVBOT_HOST": settings.host,
           "GOVBOT_RASA_PORT": str(settings.rasa_port),
           "GOVBOT_ACTION_PORT": str(settings.action_port),
           "GOVBOT_API_PORT": str(settings.api_port),
           "GOVBOT_JOB_INTERVAL": str(settings.job_interval),
           "GOVBOT_NOTICE_WEEKLY_LIMIT": str(settings.notice_weekly_limit),
           "GOVBOT_FOLLOWUP_WORKDAYS": str(settings.followup_workdays)}
    for key, value in (("GOVBOT_DATABASE_URL", settings.database_url),
                       ("GOVBOT_API_TOKENS", settings.api_tokens),
                       ("GOVBOT_VAR_DIR", settings.var),
                       ("GOVBOT_MEMBERS_FILE", settings.members_file),
                       ("GOVBOT_SECURE_COOKIES", "1" if settings.secure_cookies else ""),
                       ("GOVBOT_MODE", settings.mode if settings.mode != "embedded" else ""),
                       ("GOVBOT_REDIS_URL", settings.redis_url),
                       ("GOVBOT_RABBITMQ_URL", settings.rabbitmq_url),
                       ("GOVBOT_RASA_TOKEN", settings.rasa_token),
                       ("GOVBOT_TRUSTED_PROXIES", settings.trusted_proxies),
                       ("GOVBOT_ACTIONS", settings.actions)):
        if value:
            env[key] = value
    return env


def with_rasa_token(settings: Settings) -> Settings:
    """These settings with Rasa's HTTP API token: the configured one, else the one in
    var/rasa_token, created (mode 0600) on the first start."""
    if settings.rasa_token:
        return settings
    path = settings.rasa_token_file
    token = path.read_text(encoding="utf-8").strip() if path.is_file() else ""
    if not token:
        token = secrets.token_urlsafe(32)
        write_private(path, token + "\n")
    return replace(settings, rasa_token=token)
