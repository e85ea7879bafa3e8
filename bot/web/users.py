"""Web users, their sessions and the login rate limit.

Passwords are hashed with Argon2 (argon2-cffi). A session is a random cookie value;
only its SHA-256 is stored, with a per-session CSRF token and an expiry.

Failed logins are counted so that no one can lock someone else out: five failures for
one user name *from one address* within 15 minutes block that name from that address
only; twenty failures from one address (any names: password spraying) block the
address. Failures for a name from everywhere only slow its logins down (a delay that
doubles from 0.5 s up to 8 s), and ``govbot web user unlock`` clears them.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from bot.db.schema import login_failures, web_sessions, web_users

ROLES = ("agent", "handler", "admin")
SESSION_HOURS = 8
MAX_FAILURES = 5  # per user name and address
MAX_ADDRESS_FAILURES = 20  # per address, any user names
MAX_DELAY = 8.0  # seconds
FAILURE_WINDOW = timedelta(minutes=15)
_hasher = PasswordHasher()


class UserError(ValueError):
    pass


@dataclass(frozen=True)
class User:
    username: str
    role: str  # agent (hotline) | handler (a department) | admin
    department: str | None = None
    display_name: str | None = None

    @property
    def actor(self) -> str:
        return f"{self.role}:{self.username}"


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def _now() -> datetime:
    return datetime.now(timezone.utc)


class UserStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, username: str, password: str, role: str, department: str | None = None,
            display_name: str | None = None) -> User:
        if role not in ROLES:
            raise UserError(f"role must be one of {', '.join(ROLES)}")
        if role == "handler" and not department:
            raise UserError("a handler needs a department")
        if not username.isascii() or not 2 <= len(username) <= 64 or not username.isprintable():
            raise UserError("user names are 2-64 printable ASCII characters")
        if len(password) < 10:
            raise UserError("passwords need at least 10 characters")
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(web_users).values(
                    username=username, password_hash=_hasher.hash(password), role=role,
                    department=department, display_name=display_name, created_at=_now()))
        except IntegrityError:
            raise UserError(f"user {username!r} exists already") from None
        return User(username, role, department, display_name)

    def _failures(self, *conditions) -> int:  # noqa: ANN002 - SQL expressions
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(login_failures).where(
                login_failures.c.at >= _now() - FAILURE_WINDOW, *conditions)).scalar_one()

    def blocked(self, username: str, address: str) -> bool:
        """Too many recent failures for this name from this address, or from this address."""
        c = login_failures.c
        return (self._failures(c.username == username[:64], c.address == address[:64])
                >= MAX_FAILURES
                or self._failures(c.address == address[:64]) >= MAX_ADDRESS_FAILURES)

    def delay(self, username: str) -> float:
        """Seconds to wait before checking a password for ``username``: grows with the
        recent failures for that name from any address (a slow-down, never a lock)."""
        n = self._failures(login_failures.c.username == username[:64])
        return 0.0 if n < MAX_FAILURES else min(MAX_DELAY, 0.5 * 2 ** (n - MAX_FAILURES))

    def unlock(self, username: str) -> int:
        """Forget the recorded failures for ``username`` (how many there were)."""
        with self.engine.begin() as conn:
            return conn.execute(delete(login_failures).where(
                login_failures.c.username == username[:64])).rowcount

    def login(self, username: str, password: str, address: str) -> tuple[str, Session] | None:
        """A new session (cookie value, session) for the right password, else None."""
        with self.engine.connect() as conn:
            row = conn.execute(select(web_users).where(web_users.c.username == username)
                               ).first()
        ok = False
        if row is not None:
            try:
                ok = _hasher.verify(row.password_hash, password)
            except (VerificationError, InvalidHashError):
                ok = False
        else:
            _hasher.hash(password)  # the same time for unknown names: no user enumeration
        with self.engine.begin() as conn:
            if not ok:
                conn.execute(insert(login_failures).values(at=_now(), username=username[:64],
                                                           address=address[:64]))
                return None
            conn.execute(delete(login_failures).where(login_failures.c.username == username))
            conn.execute(delete(web_sessions).where(web_sessions.c.expires_at < _now()))
            cookie, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
            conn.execute(insert(web_sessions).values(
                id_hash=_digest(cookie), username=username, csrf=csrf,
                expires_at=_now() + timedelta(hours=SESSION_HOURS)))
        return cookie, Session(User(row.username, row.role, row.department, row.display_name),
                               csrf)

    def session(self, cookie: str | None) -> Session | None:
        if not cookie:
            return None
        query = (select(web_sessions.c.csrf, web_users)
                 .select_from(web_sessions.join(web_users,
                                                web_users.c.username == web_sessions.c.username))
                 .where(web_sessions.c.id_hash == _digest(cookie),
                        web_sessions.c.expires_at > _now()))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        return Session(User(row.username, row.role, row.department, row.display_name), row.csrf)

    def logout(self, cookie: str | None) -> None:
        if cookie:
            with self.engine.begin() as conn:
                conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == _digest(cookie)))

    def set_password(self, username: str, password: str) -> None:
        if len(password) < 10:
            raise UserError("passwords need at least 10 characters")
        with self.engine.begin() as conn:
            done = conn.execute(update(web_users).where(web_users.c.username == username)
                                .values(password_hash=_hasher.hash(password))).rowcount
            conn.execute(delete(web_sessions).where(web_sessions.c.username == username))
        if not done:
            raise UserError(f"no user {username!r}")

