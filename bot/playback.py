"""Playing scripted conversations (``tests/conversations/*.yml``) against a running
assistant, and the report of how many held.

A conversation is a list of user turns with expectations on the replies, and
expectations on the tickets written for its sender (format:
``tests/conversations/README.md``). It talks to the REST channel like any client,
drives the department API for ``department:`` steps and reads the tickets from the
ticket database, so what is checked is what a user and a department would meet.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
import uuid
from collections import defaultdict
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.settings import RasaApi
from bot.tickets.model import Ticket
from bot.tickets.store import Query, SqlTicketStore


@dataclass(frozen=True)
class Script:
    category: str
    name: str
    register: str
    turns: list[dict[str, Any]]
    tickets: dict[str, Any] | None
    source: str
    known_gap: str | None = None  # why it is expected to fail for now (an open defect)

    @property
    def id(self) -> str:
        return f"{self.category}: {self.name}"


@dataclass
class Outcome:
    script: Script
    failures: list[str] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


@dataclass(frozen=True)
class Target:
    """Where the assistant runs: its REST channel, the department API, the ticket database."""

    rasa_url: str
    api_url: str  # the department API, …/api/v1
    api_token: str  # an admin token of the department API
    database_url: str
    rasa_token: str = ""  # Rasa's HTTP API token (the tracker is read to check replies)


def load_scripts(folder: Path) -> list[Script]:
    scripts = []
    for path in sorted(folder.glob("*.yml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for c in doc.get("conversations") or []:
            scripts.append(Script(doc["category"], c["name"], c.get("register", ""),
                                  list(c["turns"]), c.get("tickets"), path.name,
                                  c.get("known_gap")))
    return scripts


def _post(url: str, body: dict[str, Any], token: str | None = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def _get(url: str, token: str | None = None) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"}
                                 if token else {})
    with urllib.request.urlopen(req, timeout=60) as resp:
        return json.loads(resp.read())


def reply_text(replies: list[dict[str, Any]]) -> str:
    """What the user sees: the texts and the button titles."""
    parts = []
    for r in replies:
        parts.append(r.get("text") or "")
        parts += [b.get("title", "") for b in r.get("buttons") or []]
    return "\n".join(p for p in parts if p)


def check_reply(text: str, buttons: list[str], expect: dict[str, Any] | None) -> list[str]:
    if not expect:
        return [] if text else ["no reply"]
    problems = []
    if expect.get("any") and not any(s in text for s in expect["any"]):
        problems.append(f"none of {expect['any']} in the reply")
    problems += [f"{s!r} missing from the reply" for s in expect.get("all") or [] if s not in text]
    problems += [f"{s!r} in the reply" for s in expect.get("none") or [] if s in text]
    problems += [f"button {b!r} not offered" for b in expect.get("buttons") or []
                 if b not in buttons]
    return problems


_FIELDS = {
    "company": lambda t: t.enterprise.name,
    "credit_code": lambda t: t.enterprise.credit_code,
    "contact": lambda t: t.enterprise.contact,
    "mobile": lambda t: t.enterprise.mobile,
    "region": lambda t: t.region,
    "domain": lambda t: t.domain,
    "subtopic": lambda t: t.subtopic,
}


def check_ticket(ticket: Ticket, expect: dict[str, Any], label: str) -> list[str]:
    problems = []
    for key, want in expect.items():
        if key == "text_contains":
            if str(want) not in ticket.text:
                problems.append(f"{label}: text lacks {want!r}")
        elif key == "department_contains":
            if str(want) not in (ticket.department or ""):
                problems.append(f"{label}: department {ticket.department!r} lacks {want!r}")
        elif key in _FIELDS:
            got = _FIELDS[key](ticket)
            if (got or None) != (str(want) if want is not None else None):
                problems.append(f"{label}: {key} is {got!r}, expected {want!r}")
        else:
            problems.append(f"{label}: unknown expectation {key!r}")
    return problems


def check_tickets(tickets: list[Ticket], expect: dict[str, Any]) -> list[str]:
    """``tickets`` oldest first."""
    problems = []
    if "count" in expect and len(tickets) != expect["count"]:
        problems.append(f"{len(tickets)} tickets written, expected {expect['count']}")
    if expect.get("last"):
        problems += (check_ticket(tickets[-1], expect["last"], "last ticket") if tickets
                     else ["no ticket written"])
    for i, want in enumerate(expect.get("all") or []):
        if i < len(tickets):
            problems += check_ticket(tickets[i], want, f"ticket {i + 1}")
    return problems


class Player:
    def __init__(self, target: Target) -> None:
        self.target = target
        self.store = SqlTicketStore.from_url(target.database_url)

    def tickets_of(self, sender: str) -> list[Ticket]:
        found, _ = self.store.query(Query(sender_id=f"rest:{sender}", limit=50))
        return sorted(found, key=lambda t: (t.created_at, t.number))

    def _bot_texts(self, sender: str) -> list[str]:
        events = _get(RasaApi(self.target.rasa_url, self.target.rasa_token).url(
            f"/conversations/{sender}/tracker"))["events"]
        return [e.get("text") or "" for e in events if e["event"] == "bot"]

    def _department(self, sender: str, step: dict[str, Any]) -> list[str]:
        """Resolve the sender's latest ticket through the department API; the messages
        the assistant then sent to the conversation."""
        tickets = self.tickets_of(sender)
        if not tickets:
            return ["department step: the sender has no ticket"]
        number = tickets[-1].number
        base, token = f"{self.target.api_url}/tickets/{number}", self.target.api_token
        seen = len(self._bot_texts(sender))
        ticket = _get(base, token)["ticket"]
        if step["department"] == "resolve":
            if ticket["status"] not in ("in_progress",):
                ticket = _post(f"{base}/accept", {"version": ticket["version"]}, token)["ticket"]
            _post(f"{base}/resolve", {"version": ticket["version"],
                                      "reply": step.get("reply") or "已办理。"}, token)
        else:
            return [f"unknown department step {step['department']!r}"]
        for _ in range(50):  # the notification reaches the conversation asynchronously
            told = self._bot_texts(sender)[seen:]
            if any("打分" in t for t in told):
                break
            time.sleep(0.1)
        return told

    def _staff(self, sender: str, step: dict[str, Any]) -> list[str]:
        """An agent in the console answers the sender's waiting hand-over (``staff: text``)
        or gives it back to the assistant (``staff: hand back``); the messages the
        conversation then got."""
        api, token = self.target.api_url, self.target.api_token
        mine = [h for h in _get(f"{api}/handoffs", token)["handoffs"]
                if h["conversation_id"] == sender]
        if not mine:
            return ["staff step: the conversation is not waiting for a person"]
        seen = len(self._bot_texts(sender))
        if step["staff"] == "hand back":
            _post(f"{api}/handoffs/{mine[0]['id']}/close", {}, token)
        else:
            _post(f"{api}/handoffs/{mine[0]['id']}/reply", {"text": str(step["staff"])}, token)
        for _ in range(50):
            told = self._bot_texts(sender)[seen:]
            if told:
                return told
            time.sleep(0.1)
        return []

    def play(self, script: Script) -> Outcome:
        outcome = Outcome(script)
        sender = f"conv-{uuid.uuid4().hex[:12]}"
        for i, turn in enumerate(script.turns, start=1):
            try:
                if "department" in turn or "staff" in turn:
                    staff = "staff" in turn
                    told = self._staff(sender, turn) if staff else self._department(sender, turn)
                    text, buttons = "\n".join(told), []
                    outcome.transcript.append(f"[staff] {turn['staff']}" if staff
                                              else f"[department {turn['department']}]")
                else:
                    said = str(turn["user"])
                    if "{ticket}" in said:  # the sender's latest ticket number
                        numbers = [t.number for t in self.tickets_of(sender)] or ["QZ-none"]
                        said = said.replace("{ticket}", numbers[-1])
                    replies = _post(f"{self.target.rasa_url}/webhooks/rest/webhook",
                                    {"sender": sender, "message": said})
                    text = reply_text(replies)
                    buttons = [b.get("title", "") for r in replies for b in r.get("buttons") or []]
                    outcome.transcript.append(f"> {said}")
                outcome.transcript.append("  " + text.replace("\n", "\n  "))
            except (urllib.error.URLError, OSError, KeyError, ValueError) as err:
                outcome.failures.append(f"turn {i}: {type(err).__name__}: {err}")
                return outcome
            outcome.failures += [f"turn {i}: {p}" for p in check_reply(text, buttons,
                                                                       turn.get("expect"))]
        if script.tickets is not None:
            outcome.failures += check_tickets(self.tickets_of(sender), script.tickets)
        return outcome

    def play_all(self, scripts: Iterable[Script], workers: int = 4) -> list[Outcome]:
        with ThreadPoolExecutor(workers) as pool:
            return list(pool.map(self.play, scripts))


def report(outcomes: list[Outcome]) -> str:
    """Markdown: pass rates per category, then every failure with its transcript."""
    by_category: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_category[o.script.category].append(o)
    passed = sum(o.passed for o in outcomes)
    lines = ["# Scripted conversations", "",
             "Generated by `uv run govbot conversations` (REST channel, real servers, "
             "embedded SQLite). The conversations in `tests/conversations/` were written "
             "from the README and docs only, in the registers real users write in.", "",
             f"**{passed} of {len(outcomes)} conversations pass "
             f"({passed / max(len(outcomes), 1):.1%}).**", "",
             "| category | conversations | pass | rate |", "|---|---:|---:|---:|"]
    for cat in sorted(by_category):
        os_ = by_category[cat]
        ok = sum(o.passed for o in os_)
        lines.append(f"| {cat} | {len(os_)} | {ok} | {ok / len(os_):.0%} |")
    by_register: dict[str, list[Outcome]] = defaultdict(list)
    for o in outcomes:
        by_register[o.script.register or "—"].append(o)
    lines += ["", "| register | conversations | pass | rate |", "|---|---:|---:|---:|"]
    for reg in sorted(by_register):
        os_ = by_register[reg]
        ok = sum(o.passed for o in os_)
        lines.append(f"| {reg} | {len(os_)} | {ok} | {ok / len(os_):.0%} |")
    gaps = [o for o in outcomes if o.script.known_gap]
    if gaps:
        lines += ["", f"{len(gaps)} conversations are known gaps (an open defect, named in the "
                  f"script); {sum(o.passed for o in gaps)} of them pass now.", ""]
        lines += [f"- {o.script.id}: {o.script.known_gap}"
                  + (" — **passes now**" if o.passed else "") for o in gaps]
    failed = [o for o in outcomes if not o.passed]
    if failed:
        lines += ["", "## Failures", ""]
        for o in failed:
            lines += [f"### {o.script.id} ({o.script.source})", ""]
            lines += [f"- {f}" for f in o.failures]
            lines += ["", "```", *o.transcript, "```", ""]
    return "\n".join(lines) + "\n"
