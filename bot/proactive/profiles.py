"""Enterprise profiles (企业档案), keyed on the unified social credit code.

A profile is built from the enterprise's tickets (its name, county and the channel it
talks to us on — the chat's and the hotline console's alike) and completed by the
enterprise itself in a short dialogue it may accept or decline (county, industry, size
class, qualifications, R&D spending, employees). It holds only what policy matching
needs and where to reach the enterprise. The enterprise can see and delete it in the chat;
every read and every change is written to ``profile_audit`` (field names, never values).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Connection, Engine, Row

from bot.creditcode import is_valid_credit_code
from bot.db.schema import (
    enterprise_profiles,
    policy_deliveries,
    proactive_marks,
    profile_audit,
    tickets,
)
from bot.db.times import as_utc
from bot.kb.matching import QUALIFICATIONS, SIZE_NAMES, Profile
from bot.regions import region_table

logger = logging.getLogger(__name__)

#: what the enterprise may fill in, and how each is shown to it
FIELDS = {"region": "所在县（市、区）", "industry": "所属行业", "size": "企业规模",
          "qualifications": "资质", "rd_expense": "上年度研发费用", "employees": "从业人数"}
#: industries as the national classification's sections (国民经济行业分类 门类)
INDUSTRIES = ("农、林、牧、渔业", "采矿业", "制造业", "电力、热力、燃气及水生产和供应业",
              "建筑业", "批发和零售业", "交通运输、仓储和邮政业", "住宿和餐饮业",
              "信息传输、软件和信息技术服务业", "金融业", "房地产业", "租赁和商务服务业",
              "科学研究和技术服务业", "水利、环境和公共设施管理业",
              "居民服务、修理和其他服务业", "教育", "卫生和社会工作", "文化、体育和娱乐业")
TICKETS_READ = "tickets_read"  # the proactive_marks row: tickets read into profiles up to


def _now() -> datetime:
    return datetime.now(timezone.utc)


class ProfileError(ValueError):
    """A value the profile cannot hold; the message says which, in English."""


@dataclass(frozen=True)
class EnterpriseProfile:
    credit_code: str
    name: str
    region: str | None = None
    industry: str | None = None
    size: str | None = None
    qualifications: frozenset[str] = frozenset()
    rd_expense: float | None = None
    employees: int | None = None
    channel: str | None = None
    sender_id: str | None = None
    conversation_id: str | None = None
    subscribed: bool = True
    completed_at: datetime | None = None
    declined_at: datetime | None = None
    source: str = "ticket"
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def for_matching(self) -> Profile:
        return Profile(region=self.region, industry=self.industry, size=self.size,
                       qualifications=self.qualifications, rd_expense=self.rd_expense,
                       employees=self.employees)

    def missing(self) -> list[str]:
        """The fields matching would use that the enterprise has not given."""
        return [k for k in FIELDS if getattr(self, k) in (None, frozenset())]

    def lines(self) -> list[str]:
        """The profile as the enterprise reads it (Chinese; its own data, unmasked)."""
        def shown(key: str) -> str:
            value = getattr(self, key)
            if value in (None, frozenset()):
                return "未填写"
            if key == "size":
                return f"{SIZE_NAMES[value]}企业"
            if key == "qualifications":
                return "、".join(sorted(value))
            if key == "rd_expense":
                return f"{value / 10_000:g}万元"
            if key == "employees":
                return f"{value}人"
            return str(value)
        return [f"企业名称：{self.name}", f"统一社会信用代码：{self.credit_code}",
                *(f"{label}：{shown(key)}" for key, label in FIELDS.items()),
                f"政策推送：{'接收' if self.subscribed else '已退订'}"]


def _profile(row: Row) -> EnterpriseProfile:
    return EnterpriseProfile(
        row.credit_code, row.name, row.region, row.industry, row.size,
        frozenset(row.qualifications or ()), row.rd_expense, row.employees, row.channel,
        row.sender_id, row.conversation_id, bool(row.subscribed), as_utc(row.completed_at),
        as_utc(row.declined_at), row.source, as_utc(row.created_at), as_utc(row.updated_at))


def checked(values: dict[str, Any]) -> dict[str, Any]:
    """``values`` as the profile stores them; ProfileError naming the first wrong one."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if key not in FIELDS:
            raise ProfileError(f"unknown profile field {key!r}")
        if value is None:
            out[key] = None
        elif key == "region":
            place = region_table().get(str(value))
            if place is None or place.level != "county":
                raise ProfileError(f"region {value!r} is not a county of Zhejiang")
            out[key] = place.name
        elif key == "industry":
            if value not in INDUSTRIES:
                raise ProfileError(f"industry {value!r} is not a section of the classification")
            out[key] = value
        elif key == "size":
            if value not in SIZE_NAMES:
                raise ProfileError(f"size {value!r} is not micro, small, medium or large")
            out[key] = value
        elif key == "qualifications":
            names = frozenset(value)
            if not names <= set(QUALIFICATIONS):
                raise ProfileError(f"unknown qualifications {sorted(names - set(QUALIFICATIONS))}")
            out[key] = sorted(names)
        elif key == "rd_expense":
            if not isinstance(value, int | float) or not 0 <= value < 1e12:
                raise ProfileError("rd_expense must be a number of yuan")
            out[key] = float(value)
        elif key == "employees":
            if not isinstance(value, int) or not 0 <= value < 10_000_000:
                raise ProfileError("employees must be a whole number")
            out[key] = value
    return out


class ProfileStore:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] = _now) -> None:
        self.engine, self.clock = engine, clock

    def _audit(self, conn: Connection, code: str, actor: str, action: str,
               fields: list[str] | None = None) -> None:
        conn.execute(insert(profile_audit).values(
            at=self.clock(), credit_code=code, actor=actor[:200], action=action,
            fields=sorted(fields or [])))

    # -- reading ---------------------------------------------------------------------
    def get(self, code: str, actor: str) -> EnterpriseProfile | None:
        with self.engine.begin() as conn:
            row = conn.execute(select(enterprise_profiles).where(
                enterprise_profiles.c.credit_code == code)).first()
            if row is not None:
                self._audit(conn, code, actor, "read")
        return _profile(row) if row is not None else None

    def of_sender(self, sender_id: str, actor: str) -> list[EnterpriseProfile]:
        """The profiles of the enterprises this chat user speaks for (from their tickets
        and their own answers), newest first."""
        self.sync_from_tickets()
        with self.engine.begin() as conn:
            rows = conn.execute(select(enterprise_profiles).where(
                enterprise_profiles.c.sender_id == sender_id)
                .order_by(enterprise_profiles.c.updated_at.desc())).all()
            for r in rows:
                self._audit(conn, r.credit_code, actor, "read")
        return [_profile(r) for r in rows]

    def subscribers(self, actor: str, batch: int = 5000) -> Iterator[EnterpriseProfile]:
        """Every profile that receives policy notices, in batches (one audit row for the
        whole read, ``credit_code`` ``*``)."""
        with self.engine.begin() as conn:
            self._audit(conn, "*", actor, "match")
        after = ""
        while True:
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(enterprise_profiles)
                    .where(enterprise_profiles.c.subscribed.is_(True),
                           enterprise_profiles.c.credit_code > after)
                    .order_by(enterprise_profiles.c.credit_code).limit(batch)).all()
            if not rows:
                return
            yield from (_profile(r) for r in rows)
            after = rows[-1].credit_code

    # -- changing ----------------------------------------------------------------------
    def save(self, profile: EnterpriseProfile, actor: str) -> EnterpriseProfile:
        """Create or replace a whole profile (the console, tests, imports)."""
        values = checked({k: getattr(profile, k) for k in FIELDS})
        if not is_valid_credit_code(profile.credit_code):
            raise ProfileError(f"credit code {profile.credit_code!r} is not valid")
        now = self.clock()
        row = {**values, "credit_code": profile.credit_code, "name": profile.name[:200],
               "qualifications": values.get("qualifications") or [],
               "channel": profile.channel, "sender_id": profile.sender_id,
               "conversation_id": profile.conversation_id, "subscribed": profile.subscribed,
               "completed_at": profile.completed_at, "declined_at": profile.declined_at,
               "source": profile.source, "updated_at": now}
        with self.engine.begin() as conn:
            found = conn.execute(select(enterprise_profiles.c.created_at).where(
                enterprise_profiles.c.credit_code == profile.credit_code)).first()
            if found is None:
                conn.execute(insert(enterprise_profiles).values(**row, created_at=now))
            else:
                conn.execute(update(enterprise_profiles).where(
                    enterprise_profiles.c.credit_code == profile.credit_code).values(**row))
            self._audit(conn, profile.credit_code, actor,
                        "create" if found is None else "update", list(row))
        return replace(profile, updated_at=now, created_at=as_utc(found[0]) if found else now)

    def update(self, code: str, actor: str, values: dict[str, Any],
               completed: bool = False) -> EnterpriseProfile:
        """Change some fields (the enterprise's own answers); ``completed``: it finished
        the dialogue."""
        row = checked(values)
        if "qualifications" in row and row["qualifications"] is None:
            row["qualifications"] = []
        now = self.clock()
        extra = {"completed_at": now, "declined_at": None} if completed else {}
        with self.engine.begin() as conn:
            done = conn.execute(update(enterprise_profiles).where(
                enterprise_profiles.c.credit_code == code).values(
                **row, **extra, updated_at=now)).rowcount
            if not done:
                raise ProfileError(f"no profile {code}")
            self._audit(conn, code, actor, "update", list(row) + list(extra))
            found = conn.execute(select(enterprise_profiles).where(
                enterprise_profiles.c.credit_code == code)).one()
        return _profile(found)

    def decline(self, code: str, actor: str) -> None:
        """The enterprise does not want to complete its details now."""
        with self.engine.begin() as conn:
            conn.execute(update(enterprise_profiles).where(
                enterprise_profiles.c.credit_code == code).values(
                declined_at=self.clock(), updated_at=self.clock()))
            self._audit(conn, code, actor, "decline", ["declined_at"])

    def set_subscribed(self, code: str, actor: str, subscribed: bool) -> bool:
        """``退订`` / ``订阅``; unsubscribing cancels the notices not yet sent."""
        with self.engine.begin() as conn:
            done = conn.execute(update(enterprise_profiles).where(
                enterprise_profiles.c.credit_code == code).values(
                subscribed=subscribed, updated_at=self.clock())).rowcount
            if not done:
                return False
            if not subscribed:
                conn.execute(update(policy_deliveries).where(
                    policy_deliveries.c.credit_code == code,
                    policy_deliveries.c.status == "pending").values(
                    status="cancelled", detail="unsubscribed"))
            self._audit(conn, code, actor, "subscribe" if subscribed else "unsubscribe",
                        ["subscribed"])
        return True

    def delete(self, code: str, actor: str) -> bool:
        """Remove the profile (the enterprise's request); notices not yet sent are
        cancelled; the audit trail keeps that it happened, not what it held. Tickets
        already read are not read into a profile again; a new ticket starts a new one."""
        with self.engine.begin() as conn:
            done = conn.execute(delete(enterprise_profiles).where(
                enterprise_profiles.c.credit_code == code)).rowcount
            if done:
                conn.execute(update(policy_deliveries).where(
                    policy_deliveries.c.credit_code == code,
                    policy_deliveries.c.status == "pending").values(
                    status="cancelled", detail="profile deleted"))
                self._audit(conn, code, actor, "delete")
        return bool(done)

    # -- built from tickets ---------------------------------------------------------------
    def sync_from_tickets(self, batch: int = 2000) -> int:
        """Read the tickets opened since the last call into profiles: a new credit code
        gets a profile with the ticket's name and county; a known one its latest channel.
        Returns the number of tickets read."""
        with self.engine.begin() as conn:
            mark = conn.execute(select(proactive_marks.c.at).where(
                proactive_marks.c.name == TICKETS_READ)).scalar()
            query = select(tickets.c.credit_code, tickets.c.enterprise_name, tickets.c.region,
                           tickets.c.channel, tickets.c.sender_id, tickets.c.conversation_id,
                           tickets.c.created_at).where(tickets.c.credit_code.is_not(None))
            if mark is not None:
                query = query.where(tickets.c.created_at > mark)
            rows = conn.execute(query.order_by(tickets.c.created_at).limit(batch)).all()
            if not rows:
                return 0
            for r in rows:
                self._read_ticket(conn, r)
            last = rows[-1].created_at
            if mark is None:
                conn.execute(insert(proactive_marks).values(name=TICKETS_READ, at=last))
            else:
                conn.execute(update(proactive_marks).where(
                    proactive_marks.c.name == TICKETS_READ).values(at=last))
        return len(rows)

    def _read_ticket(self, conn: Connection, t: Row) -> None:
        code = t.credit_code
        if not is_valid_credit_code(code):
            return
        place = region_table().get(t.region)
        # a phone call gives no channel to push to: the profile keeps what it had
        reach = {} if t.channel == "hotline" else {
            "channel": t.channel, "sender_id": t.sender_id,
            "conversation_id": t.conversation_id}
        found = conn.execute(select(enterprise_profiles.c.region).where(
            enterprise_profiles.c.credit_code == code)).first()
        now = self.clock()
        if found is None:
            conn.execute(insert(enterprise_profiles).values(
                credit_code=code, name=t.enterprise_name[:200],
                region=place.name if place is not None and place.level == "county" else None,
                qualifications=[], subscribed=True,
                source="console" if t.channel == "hotline" else "ticket",
                created_at=now, updated_at=now, last_ticket_at=t.created_at,
                **{"channel": None, "sender_id": None, "conversation_id": None, **reach}))
            self._audit(conn, code, "system:tickets", "create", ["name", "region", *reach])
        else:
            conn.execute(update(enterprise_profiles).where(
                enterprise_profiles.c.credit_code == code).values(
                **reach, last_ticket_at=t.created_at, updated_at=now))
            if reach:
                self._audit(conn, code, "system:tickets", "update", list(reach))

    def count(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(enterprise_profiles)).scalar()
