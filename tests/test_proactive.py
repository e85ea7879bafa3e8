"""Proactive service: enterprise profiles built from tickets (audited, deletable), policies
matched against them once per version, notices sent within the weekly limit — on SQLite
and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from bot.creditcode import credit_code_check_char
from bot.db import migrate
from bot.db.schema import policy_deliveries, profile_audit
from bot.proactive import delivery
from bot.proactive.profiles import EnterpriseProfile, ProfileError, ProfileStore
from bot.stats.proactive import proactive_figures
from bot.stats.queries import Filters
from bot.tickets.model import Enterprise, NewTicket
from bot.tickets.store import Assignment, SqlTicketStore

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)
TODAY = date(2026, 12, 1)


def code(n: int) -> str:
    first = f"91330825MA2{n:06d}"
    return first + credit_code_check_char(first)


def doc(doc_id: str = "lyx-tech-grant", **extra) -> dict:
    return {"id": doc_id, "title": "龙游县科技型中小企业研发补助办法", "issuer": "龙游县科技局",
            "doc_no": "龙科〔2026〕9号", "date": "2026-11-20", "region": "龙游县",
            "url": "https://example.gov.cn/grant", "benefit": "按研发费用的10%给予补助，最高50万元",
            "apply_by": "2026-12-31",
            "eligibility": {"qualifications": ["科技型中小企业"], "size": ["micro", "small"]},
            **extra}


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def db(engine):
    migrate.upgrade(engine)
    return engine


@pytest.fixture
def profiles(db):
    return ProfileStore(db, clock=Clock(NOW))


def enterprise(store: ProfileStore, n: int, **facts) -> EnterpriseProfile:
    p = EnterpriseProfile(code(n), f"龙游县第{n}号科技有限公司", **{
        "region": "龙游县", "channel": "rest", "sender_id": f"rest:u{n}",
        "conversation_id": f"u{n}", **facts})
    return store.save(p, "test")


def open_ticket(db, n: int, channel: str = "rest", at: datetime = NOW) -> None:
    store = SqlTicketStore(db, clock=lambda: at)
    new = NewTicket(Enterprise(f"衢州第{n}号纸业有限公司", code(n), "王经理",
                               "13905701234"), region="龙游县", domain="project",
                    subtopic="utilities", text="园区每天下午停电", channel=channel,
                    sender_id=None if channel == "hotline" else f"{channel}:u{n}",
                    conversation_id=None if channel == "hotline" else f"u{n}")
    store.create(new, "test", None, Assignment("龙游县供电公司", "county", "test",
                                                TODAY, TODAY))


# -- profiles --------------------------------------------------------------------------------
def test_tickets_build_profiles_and_a_deleted_one_is_not_rebuilt_from_them(db, profiles):
    open_ticket(db, 1)  # the web chat
    open_ticket(db, 2, channel="hotline")  # a call taken at the console
    assert profiles.sync_from_tickets() == 2
    chat, = profiles.of_sender("rest:u1", "rest:u1")
    assert (chat.name, chat.region, chat.channel, chat.conversation_id, chat.subscribed) == (
        "衢州第1号纸业有限公司", "龙游县", "rest", "u1", True)
    phone = profiles.get(code(2), "agent")
    assert phone.channel is None and phone.source == "console"  # no channel to push to
    assert profiles.count() == 2

    assert profiles.delete(code(1), "rest:u1")
    assert profiles.sync_from_tickets() == 0  # the same tickets are not read again
    assert profiles.of_sender("rest:u1", "rest:u1") == []
    later = NOW + timedelta(days=3)
    open_ticket(db, 1, at=later)  # a new ticket starts a new profile
    assert profiles.sync_from_tickets() == 1
    assert profiles.get(code(1), "agent").created_at == NOW  # the store's clock


def test_every_read_and_change_is_audited_by_field_name(db, profiles):
    enterprise(profiles, 1)
    profiles.get(code(1), "agent:小王")
    profiles.update(code(1), "rest:u1", {"size": "small", "rd_expense": 1_200_000},
                    completed=True)
    profiles.set_subscribed(code(1), "rest:u1", False)
    profiles.delete(code(1), "rest:u1")
    with db.connect() as conn:
        rows = conn.execute(select(profile_audit.c.actor, profile_audit.c.action,
                                   profile_audit.c.fields).order_by(profile_audit.c.id)).all()
    assert [(r.actor, r.action) for r in rows] == [
        ("test", "create"), ("agent:小王", "read"), ("rest:u1", "update"),
        ("rest:u1", "unsubscribe"), ("rest:u1", "delete")]
    assert rows[2].fields == ["completed_at", "declined_at", "rd_expense", "size"]
    assert "1200000" not in str([r.fields for r in rows])  # names, never values


def test_a_profile_holds_only_what_matching_can_use(profiles):
    enterprise(profiles, 1)
    for wrong in ({"region": "衢州市"}, {"size": "huge"}, {"qualifications": ["三好企业"]},
                  {"industry": "造东西的"}, {"rd_expense": -5}, {"employees": 2.5},
                  {"mobile": "13905701234"}):
        with pytest.raises(ProfileError):
            profiles.update(code(1), "rest:u1", wrong)
    p = profiles.update(code(1), "rest:u1", {"region": "江山市", "industry": "制造业",
                                              "qualifications": ["高新技术企业"]})
    assert (p.region, p.industry, p.qualifications) == ("江山市", "制造业",
                                                        frozenset({"高新技术企业"}))


# -- matching and planning -------------------------------------------------------------------
def planned(db) -> list[tuple[str, str, str]]:
    with db.connect() as conn:
        return sorted(conn.execute(select(policy_deliveries.c.credit_code,
                                          policy_deliveries.c.doc_id,
                                          policy_deliveries.c.kind)).all())


def test_a_new_benefit_policy_reaches_exactly_the_qualifying_subscribed_enterprises(db,
                                                                                   profiles):
    fits = {"qualifications": frozenset({"科技型中小企业"}), "size": "small"}
    enterprise(profiles, 1, **fits)  # qualifies
    enterprise(profiles, 2, **fits, subscribed=False)  # qualifies, unsubscribed
    enterprise(profiles, 3, qualifications=frozenset({"科技型中小企业"}), size="large")
    enterprise(profiles, 4, **{**fits, "region": "江山市"})  # another county's policy
    enterprise(profiles, 5, qualifications=frozenset({"科技型中小企业"}))  # size unknown
    enterprise(profiles, 6)  # nothing known but the county: only unknowns, not told
    clock = Clock(NOW)
    first = delivery.plan(db, profiles, [doc("old")], {"old": "h0"}, TODAY, clock)
    assert first == delivery.Planned(0, 0, 0)  # the first run records what exists

    new = doc()
    result = delivery.plan(db, profiles, [doc("old"), new], {"old": "h0", new["id"]: "h1"},
                           TODAY, clock)
    assert result.documents == 1 and result.profiles == 5
    assert planned(db) == [(code(1), new["id"], "notice"), (code(5), new["id"], "notice")]
    with db.connect() as conn:
        texts = dict(conn.execute(select(policy_deliveries.c.credit_code,
                                         policy_deliveries.c.text)).all())
    told = texts[code(1)]
    for part in ("龙游县科技型中小企业研发补助办法", "按研发费用的10%给予补助，最高50万元",
                 "具备“科技型中小企业”资格", "申报截止：2026-12-31", "龙科〔2026〕9号", "退订"):
        assert part in told
    assert "尚需确认：企业规模为微型、小型企业" in texts[code(5)]

    again = delivery.plan(db, profiles, [new], {new["id"]: "h1"}, TODAY, clock)
    assert again.notices == 0 and len(planned(db)) == 2  # re-ingesting it: no one again
    enterprise(profiles, 7, **fits)  # joined since; the document changes
    changed = delivery.plan(db, profiles, [new], {new["id"]: "h2"}, TODAY, clock)
    assert changed.notices == 1 and (code(7), new["id"], "notice") in planned(db)


def test_documents_that_grant_nothing_or_have_lapsed_are_not_delivered():
    lapsed = doc("a", apply_by="2026-11-30")
    replaced = doc("b", superseded_by="c")
    law = {k: v for k, v in doc("d").items() if k != "benefit"}
    assert delivery.benefit_documents([lapsed, replaced, law, doc("e")], TODAY) == [doc("e")]


# -- sending -----------------------------------------------------------------------------
class Channel:
    def __init__(self, works: bool = True) -> None:
        self.works, self.got = works, []

    async def notice(self, conversation_id: str, text: str, d: dict) -> bool:
        self.got.append((conversation_id, d["id"]))
        return self.works


async def test_notices_go_out_within_the_weekly_limit_once_each(db, profiles):
    fits = {"qualifications": frozenset({"科技型中小企业"}), "size": "small"}
    enterprise(profiles, 1, **fits)
    enterprise(profiles, 2, **{**fits, "conversation_id": None, "channel": None})
    docs = {d["id"]: d for d in (doc("a"), doc("b"), doc("c"))}
    clock = Clock(NOW)
    delivery.plan(db, profiles, [], {"x": "0"}, TODAY, clock)
    delivery.plan(db, profiles, list(docs.values()), dict.fromkeys(docs, "1"), TODAY, clock)
    channel = Channel()
    sent = await delivery.send(db, channel, docs, limit=2, clock=clock)
    assert sent == delivery.Sent(sent=2, failed=0, waiting=1, no_channel=3)
    assert sorted(channel.got) == [("u1", "a"), ("u1", "b")]  # sent concurrently
    again = await delivery.send(db, channel, docs, limit=2, clock=clock)
    assert again == delivery.Sent(0, 0, 1, 0) and len(channel.got) == 2  # none twice
    clock.now = NOW + timedelta(days=7, minutes=1)  # a week later the third goes out
    later = await delivery.send(db, channel, docs, limit=2, clock=clock)
    assert later.sent == 1 and channel.got[-1] == ("u1", "c")
    with db.connect() as conn:
        statuses = dict(conn.execute(select(policy_deliveries.c.status, func.count())
                                     .group_by(policy_deliveries.c.status)).all())
    assert statuses == {"sent": 3, "no_channel": 3}
    # the reach figures: one enterprise reached; it then asked about one of the policies
    assert delivery.mark_asked(db, "u1", "b", NOW) == 1
    assert delivery.mark_asked(db, "u1", "b", NOW) == 0  # the first question counts
    assert delivery.mark_asked(db, "u2", "a", NOW) == 0  # told nothing: no channel
    figures = proactive_figures(db, Filters(TODAY, TODAY + timedelta(days=8)))
    assert {k: figures[k] for k in ("notices_planned", "notices_sent", "notices_no_channel",
                                    "enterprises_reached", "asked_after_notice", "read")} \
        == {"notices_planned": 6, "notices_sent": 3, "notices_no_channel": 3,
            "enterprises_reached": 1, "asked_after_notice": 1, "read": None}


async def test_a_channel_that_keeps_failing_is_given_up_after_three_tries(db, profiles):
    enterprise(profiles, 1, qualifications=frozenset({"科技型中小企业"}), size="small")
    docs = {"a": doc("a")}
    delivery.plan(db, profiles, [], {"x": "0"}, TODAY)
    delivery.plan(db, profiles, [docs["a"]], {"a": "1"}, TODAY)
    broken = Channel(works=False)
    for _ in range(4):
        await delivery.send(db, broken, docs, limit=5)
    assert len(broken.got) == 3
    with db.connect() as conn:
        row = conn.execute(select(policy_deliveries)).one()
    assert (row.status, row.attempts) == ("failed", 3)


async def test_unsubscribing_or_deleting_cancels_what_was_not_sent(db, profiles):
    fits = {"qualifications": frozenset({"科技型中小企业"}), "size": "small"}
    enterprise(profiles, 1, **fits)
    enterprise(profiles, 2, **fits)
    docs = {"a": doc("a")}
    delivery.plan(db, profiles, [], {"x": "0"}, TODAY)
    delivery.plan(db, profiles, [docs["a"]], {"a": "1"}, TODAY)
    profiles.set_subscribed(code(1), "rest:u1", False)
    profiles.delete(code(2), "rest:u2")
    channel = Channel()
    assert (await delivery.send(db, channel, docs, limit=5)).sent == 0
    assert channel.got == []


async def test_a_reminder_comes_once_a_few_days_before_the_deadline(db, profiles):
    enterprise(profiles, 1, qualifications=frozenset({"科技型中小企业"}), size="small")
    d = doc("a", apply_by="2026-12-10")
    delivery.plan(db, profiles, [], {"x": "0"}, TODAY)
    delivery.plan(db, profiles, [d], {"a": "1"}, TODAY)
    await delivery.send(db, Channel(), {"a": d}, limit=5)
    assert delivery.plan_reminders(db, {"a": d}, TODAY) == 0  # 9 days ahead: not yet
    assert delivery.plan_reminders(db, {"a": d}, date(2026, 12, 4)) == 1
    assert delivery.plan_reminders(db, {"a": d}, date(2026, 12, 5)) == 0  # once
    with db.connect() as conn:
        text = conn.execute(select(policy_deliveries.c.text).where(
            policy_deliveries.c.kind == "reminder")).scalar()
    assert "还有6天截止申报（2026-12-10）" in text


def test_the_profile_as_the_enterprise_reads_it(profiles):
    p = enterprise(profiles, 1, size="small", rd_expense=1_500_000.0,
                   qualifications=frozenset({"高新技术企业", "专精特新中小企业"}))
    lines = p.lines()
    assert "企业规模：小型企业" in lines and "上年度研发费用：150万元" in lines
    assert "资质：专精特新中小企业、高新技术企业" in lines and "所属行业：未填写" in lines
    assert replace(p, subscribed=False).lines()[-1] == "政策推送：已退订"


# -- common problems -------------------------------------------------------------------------
def test_demands_about_one_obstacle_group_and_others_stay_apart():
    from bot.proactive.commons import Demand, group

    same = [Demand("a", "城南工业园这几天下午老是停电，一停就是一两个小时，机器全停了", "utilities",
                   "龙游县", 2, "甲纸业"),
            Demand("b", "兴业路城南工业园下午又停电了，一个礼拜第四次，生产受影响", "utilities",
                   "龙游县", 5, "乙机械"),
            Demand("c", "城南工业园下午停电的问题什么时候能解决？机器停了好几次", "utilities",
                   "龙游县", 9, "丙食品")]
    apart = [Demand("d", "城南工业园下午停电，机器停了", "utilities", "乐清市", 4, "丁电器"),  # far
             Demand("e", "城南工业园下午停电，机器停了", "tax_service", "龙游县", 4, "戊贸易"),
             Demand("f", "城南工业园下午停电，一停就是两个小时", "utilities", "龙游县", 80, "己"),
             Demand("g", "城南工业园下午又停电了，第四次了", "utilities", "龙游县", 6, "甲纸业")]
    groups = group(same + apart)
    assert [sorted(d.id for d in g.demands) for g in groups] == [["a", "b", "c", "g"]]
    assert groups[0].enterprises == {"甲纸业", "乙机械", "丙食品"}
    assert group(same[:1] + apart[:1]) == []  # one enterprise alone is no common problem
