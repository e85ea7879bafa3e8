"""Figures of the proactive service for the dashboard and its export: policy notices and
their reach, common problems reported upward, follow-up visits (回访) and the centre's
reviews of low ratings — for the period's notices, reports and events."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from bot.db.schema import enterprise_profiles, policy_deliveries, ticket_events, tickets
from bot.stats.queries import Filters
from bot.tickets.model import REPORT_CHANNEL

#: what each figure is called on the dashboard and in the export, in order
FIGURES = {
    "profiles": "企业档案数", "subscribed": "接收政策推送的企业",
    "notices_planned": "匹配生成的政策推送", "notices_sent": "已送达的政策推送",
    "notices_failed": "发送失败的政策推送", "notices_no_channel": "无推送渠道（热线企业）",
    "enterprises_reached": "触达企业数", "asked_after_notice": "推送后咨询该政策的企业",
    "reminders_sent": "申报截止提醒",
    "read": "已读（平台未提供回执）",
    "reports": "堵点上报（共性问题）", "reports_province": "其中提交省级",
    "reports_answered": "已答复的堵点上报", "followups": "回访（办结未评价）",
    "followups_rated": "回访后评价", "followup_response_rate": "回访响应率",
    "reviews_opened": "低评分复核", "reviews_concluded": "已复核",
}


def proactive_figures(engine: Engine, f: Filters) -> dict[str, Any]:
    d, t, e = policy_deliveries.c, tickets.c, ticket_events.c
    period = (d.created_at >= f.since, d.created_at < f.until)
    in_period = (e.at >= f.since, e.at < f.until)
    followed = select(e.number).where(e.kind == "followup", *in_period)
    with engine.connect() as conn:
        def one(query) -> int:  # noqa: ANN001
            return int(conn.execute(query).scalar() or 0)

        def deliveries(kind: str, status: str | None = None) -> int:
            where = [d.kind == kind, *period] + ([d.status == status] if status else [])
            return one(select(func.count()).select_from(policy_deliveries).where(*where))

        def events(kind: str) -> int:
            return one(select(func.count()).select_from(ticket_events)
                       .where(e.kind == kind, *in_period))

        def reports(*where) -> int:  # noqa: ANN002
            return one(select(func.count()).select_from(tickets).where(
                t.channel == REPORT_CHANNEL, t.created_at >= f.since, t.created_at < f.until,
                *where))

        sent = (d.kind == "notice", d.status == "sent", *period)
        figures = {
            "profiles": one(select(func.count()).select_from(enterprise_profiles)),
            "subscribed": one(select(func.count()).select_from(enterprise_profiles)
                              .where(enterprise_profiles.c.subscribed.is_(True))),
            "notices_planned": deliveries("notice"),
            "notices_sent": deliveries("notice", "sent"),
            "notices_failed": deliveries("notice", "failed"),
            "notices_no_channel": deliveries("notice", "no_channel"),
            "enterprises_reached": one(select(func.count(d.credit_code.distinct()))
                                       .where(*sent)),
            "asked_after_notice": one(select(func.count(d.credit_code.distinct()))
                                      .where(*sent, d.asked_at.is_not(None))),
            "reminders_sent": deliveries("reminder", "sent"),
            "read": None,
            "reports": reports(),
            "reports_province": reports(t.level == "province"),
            "reports_answered": reports(t.resolved_at.is_not(None)),
            "followups": events("followup"),
            "followups_rated": one(select(func.count()).select_from(tickets)
                                   .where(t.number.in_(followed), t.rating.is_not(None))),
            "reviews_opened": events("review"),
            "reviews_concluded": events("reviewed"),
        }
    asked = figures["followups"]
    figures["followup_response_rate"] = (round(figures["followups_rated"] / asked, 3)
                                         if asked else None)
    return figures


def figure_rows(figures: dict[str, Any]) -> list[dict[str, Any]]:
    """The figures as export rows: the figure's name and its value ("—" when unknown)."""
    return [{"figure": name, "value": "—" if figures[key] is None else figures[key]}
            for key, name in FIGURES.items()]
