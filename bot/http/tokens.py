"""Bearer tokens of the department API, kept as SHA-256 hashes in a YAML file.

A token is shown once when it is created (``govbot api token add``); the file
only holds its hash, the holder's name, role and (for handlers) department.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot.files import write_private

ROLES = ("admin", "handler", "agent")


class TokenFileError(ValueError):
    """The token file is malformed; the message names the file and entry."""


@dataclass(frozen=True)
class Principal:
    name: str
    role: str  # admin: everything; handler: its department's tickets; agent: read + notes
    department: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.name}"


def digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def load_tokens(path: Path) -> dict[str, Principal]:
    """hash → principal; an absent file means no tokens (every call is refused)."""
    if not path.exists():
        return {}
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise TokenFileError(f"{path}: cannot read ({exc})") from exc
    found: dict[str, Principal] = {}
    for i, item in enumerate(raw.get("tokens") or [], start=1):
        where = f"{path}: token {i}"
        if not isinstance(item, dict) or not all(item.get(k) for k in ("name", "role",
                                                                      "sha256")):
            raise TokenFileError(f"{where}: needs name, role and sha256")
        if item["role"] not in ROLES:
            raise TokenFileError(f"{where}: role must be one of {', '.join(ROLES)}")
        if item["role"] == "handler" and not item.get("department"):
            raise TokenFileError(f"{where}: a handler needs a department")
        found[str(item["sha256"])] = Principal(str(item["name"]), item["role"],
                                               item.get("department"))
    return found


def add_token(path: Path, name: str, role: str, department: str | None = None) -> str:
    """Create a token, store its hash, return the token (shown to the operator once)."""
    if role not in ROLES:
        raise TokenFileError(f"role must be one of {', '.join(ROLES)}")
    if role == "handler" and not department:
        raise TokenFileError("a handler token needs --department")
    load_tokens(path)  # refuse to append to a broken file
    token = secrets.token_urlsafe(32)
    raw = (yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None) or {}
    entry = {"name": name, "role": role, "sha256": digest(token)}
    if department:
        entry["department"] = department
    raw.setdefault("tokens", []).append(entry)
    write_private(path, yaml.safe_dump(raw, allow_unicode=True, sort_keys=False))
    return token
