"""Keeping a group of processes serving: ``govbot run`` and ``govbot cluster``.

A member that dies (a Rasa replica, an action server, the web application, the event
consumer, nginx) is started again while the others keep serving — at once the first
time, then after 1, 2, 4 … up to 30 s when it keeps dying. A member restarted
``CRASH_LOOP`` times within ``CRASH_WINDOW`` seconds is in a crash loop: said in the log
by name, in the state file and so in the web application's readiness answer and metrics
(``bot.tickets.metrics``); it is still tried every 30 s, and while it is down nginx sends
its requests to the other replicas. Only a deliberate stop (Ctrl+C, SIGTERM: the caller's
``KeyboardInterrupt``) ends the group.

The state file (``members.json`` in the run directory; its path is given to the web
application as ``GOVBOT_MEMBERS_FILE``) holds each member's state (up, starting, down or
crash_loop), its restarts, its last exit code and its pid.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

MAX_DELAY = 30.0  # seconds between attempts, at most
CRASH_LOOP = 5  # restarts …
CRASH_WINDOW = 300.0  # … within this many seconds: a crash loop
SETTLED = 60.0  # a member up this long has its back-off forgotten
POLL = 0.25
RUNNING = 2.0  # a member without a health URL serves once it has run this long


@dataclass
class Member:
    """One supervised process: how to start it and how to tell that it serves."""

    name: str
    spawn: Callable[[], subprocess.Popen]
    process: subprocess.Popen
    health: str | None = None  # a URL answering 200 while it serves (None: running = up)
    state: str = "up"  # up | starting | down
    crash_loop: bool = False  # reported until it has served for SETTLED seconds
    restarts: list[float] = field(default_factory=list)  # monotonic times
    exit_code: int | None = None
    down_since: float | None = None
    up_since: float | None = None
    started_at: float | None = None
    next_start: float | None = None

    def recent_restarts(self, now: float) -> int:
        return sum(1 for t in self.restarts if now - t < CRASH_WINDOW)

    def view(self) -> dict[str, Any]:
        return {"state": "crash_loop" if self.crash_loop else self.state,
                "restarts": len(self.restarts), "exit_code": self.exit_code,
                "pid": self.process.pid if self.state != "down" else None}


def answers(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, http.client.HTTPException):
        return False  # not (yet) serving, whatever the way it says so


class Supervisor:
    def __init__(self, members: list[Member], state_file: Path | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.members, self.state_file, self.clock = members, state_file, clock
        self._written: str | None = None

    def run(self) -> int:
        """Supervise until interrupted (KeyboardInterrupt from Ctrl+C / SIGTERM)."""
        for m in self.members:
            m.up_since = self.clock()
        self.write_state()
        while True:
            self.step()
            time.sleep(POLL)

    def step(self) -> None:
        """One look at every member: notice deaths, start what is due, see what serves."""
        now = self.clock()
        for m in self.members:
            if m.state != "down" and (code := m.process.poll()) is not None:
                self._died(m, code, now)
            if m.next_start is not None and now >= m.next_start:
                self._start(m, now)
            if m.state == "starting" and m.process.poll() is None and (
                    answers(m.health) if m.health else now - (m.started_at or now) >= RUNNING):
                m.state, m.up_since = "up", now
                logger.warning("%s serves again, %.1f s after it stopped.", m.name,
                               now - (m.down_since or now))
                m.down_since = None
            if m.state == "up" and m.crash_loop and now - (m.up_since or now) > SETTLED:
                m.crash_loop = False
                logger.warning("%s has served for %.0f s: no longer in a crash loop.",
                               m.name, SETTLED)
        self.write_state()

    def _died(self, m: Member, code: int, now: float) -> None:
        # settled: it was serving, and long enough; one that dies while starting is not
        settled = m.state == "up" and m.up_since is not None and now - m.up_since > SETTLED
        m.state, m.exit_code = "down", code
        m.down_since = m.down_since or now
        recent = 0 if settled else m.recent_restarts(now)
        delay = 0.0 if recent == 0 else min(MAX_DELAY, 2.0 ** (recent - 1))
        m.next_start = now + delay
        if recent >= CRASH_LOOP:
            m.crash_loop = True
            logger.error("%s is in a crash loop: exited with code %s after %d restarts in "
                         "%.0f s; next attempt in %.0f s. It is out of rotation until it "
                         "serves again.", m.name, code, recent, CRASH_WINDOW, delay)
        else:
            logger.error("%s exited with code %s; restarting it in %.0f s while the others "
                         "keep serving.", m.name, code, delay)

    def _start(self, m: Member, now: float) -> None:
        m.next_start = None
        m.restarts.append(now)
        try:
            m.process = m.spawn()
        except OSError as err:  # e.g. a port or an executable gone: try again later
            logger.error("%s could not be started: %s", m.name, err)
            m.next_start = now + MAX_DELAY
            return
        m.state, m.started_at = "starting", now

    def write_state(self) -> None:
        if self.state_file is None:
            return
        body = json.dumps({m.name: m.view() for m in self.members}, ensure_ascii=False,
                          sort_keys=True)
        if body == self._written:
            return
        try:
            self.state_file.parent.mkdir(parents=True, exist_ok=True)
            partial = self.state_file.with_suffix(".tmp")
            partial.write_text(body, encoding="utf-8")
            os.replace(partial, self.state_file)
        except OSError as err:  # e.g. a full disk: supervising matters more than reporting
            logger.error("Members' state not written to %s: %s", self.state_file, err)
            return
        self._written = body


def read_state(path: Path | None) -> dict[str, dict[str, Any]]:
    """The members' states as the supervisor last wrote them ({} without a supervisor)."""
    if path is None:
        return {}
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return state if isinstance(state, dict) else {}
