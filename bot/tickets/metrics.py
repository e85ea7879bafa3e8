"""Figures for Prometheus (``GET /api/v1/metrics``), read from the application database.

Each scrape builds a fresh registry around one collector that reads the database, and
prometheus_client renders it in the text exposition format.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from sqlalchemy import func, select

from bot.db.schema import demands, handoffs, kb_gaps, tickets, turns
from bot.tickets.factory import Backend
from bot.tickets.model import OPEN_STATUSES, Status, china_date

CONFIDENCE_BUCKETS = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0)
LATENCY_BUCKETS = (50, 100, 250, 500, 1000, 2500, 5000)

UP_HELP = "The web application and its database answer."


class DatabaseCollector:
    """Tickets, hand-offs, outbox, demands, knowledge gaps and turns, read at each scrape."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def collect(self) -> Iterator[Metric]:
        today = china_date(datetime.now(timezone.utc))
        with self.backend.engine.connect() as conn:
            by_status = dict(conn.execute(select(tickets.c.status, func.count())
                                          .group_by(tickets.c.status)).all())
            overdue = conn.execute(select(func.count()).select_from(tickets).where(
                tickets.c.status.in_(OPEN_STATUSES), tickets.c.resolution_due < today)
            ).scalar_one()
            waiting = conn.execute(select(func.count()).select_from(handoffs).where(
                handoffs.c.closed_at.is_(None))).scalar_one()
            by_domain = dict(conn.execute(select(demands.c.domain, func.count())
                                          .group_by(demands.c.domain)).all())
            gaps = conn.execute(select(func.count()).select_from(kb_gaps)).scalar_one()
            by_channel = dict(conn.execute(select(turns.c.channel, func.count())
                                           .group_by(turns.c.channel)).all())
            confidence = _histogram(conn, turns.c.confidence, CONFIDENCE_BUCKETS)
            latency = _histogram(conn, turns.c.latency_ms, LATENCY_BUCKETS)

        yield GaugeMetricFamily("govbot_up", UP_HELP, value=1)
        status = GaugeMetricFamily("govbot_tickets", "Tickets by status.", labels=["status"])
        for s in Status:
            status.add_metric([s.value], by_status.get(s.value, 0))
        yield status
        yield GaugeMetricFamily("govbot_tickets_overdue",
                                "Open tickets past their resolution deadline.", value=overdue)
        yield GaugeMetricFamily("govbot_handoffs_waiting",
                                "Conversations waiting for a person.", value=waiting)
        yield GaugeMetricFamily("govbot_outbox_pending",
                                "Ticket requests waiting for the database.",
                                value=len(self.backend.outbox.pending()))
        yield _counter("govbot_demands_total", "Demands recognised, by domain.", "domain",
                       by_domain)
        yield CounterMetricFamily("govbot_kb_gaps_total", "Policy questions the knowledge "
                                  "base could not answer.", value=gaps)
        yield _counter("govbot_turns_total", "User messages, by channel (event broker).",
                       "channel", by_channel)
        yield _histogram_family("govbot_nlu_confidence", "NLU intent confidence of user "
                                "messages.", CONFIDENCE_BUCKETS, confidence)
        yield _histogram_family("govbot_turn_latency_ms", "From a user message to the first "
                                "reply, in milliseconds.", LATENCY_BUCKETS, latency)


class MembersCollector:
    """The supervised processes (bot/supervisor.py): up, restarts, crash loops."""

    def __init__(self, members: dict[str, dict]) -> None:
        self.members = members

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("govbot_member_up", "A supervised process serves (1) or not "
                               "(0).", labels=["member"])
        loop = GaugeMetricFamily("govbot_member_crash_loop", "A supervised process keeps "
                                 "dying and is out of rotation.", labels=["member"])
        restarts = CounterMetricFamily("govbot_member_restarts", "Restarts of a supervised "
                                       "process.", labels=["member"])
        for name, m in sorted(self.members.items()):
            up.add_metric([name], 1 if m.get("state") == "up" else 0)
            loop.add_metric([name], 1 if m.get("state") == "crash_loop" else 0)
            restarts.add_metric([name], int(m.get("restarts") or 0))
        yield from (up, loop, restarts)


def render(backend: Backend, members: dict[str, dict] | None = None) -> bytes:
    """The Prometheus text of the database's figures and the supervised processes
    (SQLAlchemyError when the database is down)."""
    registry = CollectorRegistry(auto_describe=False)  # nothing is read before the scrape
    registry.register(DatabaseCollector(backend))
    if members:
        registry.register(MembersCollector(members))
    return generate_latest(registry)


def render_unavailable(error: Exception, members: dict[str, dict] | None = None) -> bytes:
    """What a scrape gets when the database does not answer: ``govbot_up 0`` (and the
    supervised processes)."""
    registry = CollectorRegistry()
    Gauge("govbot_up", UP_HELP, registry=registry).set(0)
    if members:
        registry.register(MembersCollector(members))
    return f"# database unavailable: {type(error).__name__}\n".encode() + \
        generate_latest(registry)


def _counter(name: str, help_text: str, label: str, counts: dict[str, int]
             ) -> CounterMetricFamily:
    family = CounterMetricFamily(name, help_text, labels=[label])
    for value, n in sorted(counts.items()):
        family.add_metric([value], n)
    return family


def _histogram(conn, column, buckets) -> tuple[list[int], int, float]:  # noqa: ANN001
    """Cumulative bucket counts, count and sum of a column (NULLs left out)."""
    counts = [conn.execute(select(func.count()).where(column.is_not(None), column <= b))
              .scalar_one() for b in buckets]
    total, summed = conn.execute(select(func.count(column), func.coalesce(func.sum(column), 0))
                                 ).one()
    return counts, total, float(summed)


def _histogram_family(name: str, help_text: str, bounds: tuple[float, ...],
                      data: tuple[list[int], int, float]) -> HistogramMetricFamily:
    counts, total, summed = data
    buckets = [(str(b), n) for b, n in zip(bounds, counts, strict=True)]
    return HistogramMetricFamily(name, help_text, buckets=[*buckets, ("+Inf", total)],
                                 sum_value=summed)
