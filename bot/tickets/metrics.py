"""Figures for Prometheus (``GET /api/v1/metrics``), read from the application database."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select

from bot.tickets.factory import Backend
from bot.tickets.model import OPEN_STATUSES, Status, china_date
from bot.tickets.schema import demands, handoffs, kb_gaps, tickets, turns


def _label(value: str) -> str:
    """A Prometheus label value: backslashes and quotes escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def collect(backend: Backend) -> list[str]:
    today = china_date(datetime.now(timezone.utc))
    lines = ["# HELP govbot_up The web application and its database answer.",
             "# TYPE govbot_up gauge", "govbot_up 1",
             "# HELP govbot_tickets Tickets by status.", "# TYPE govbot_tickets gauge"]
    with backend.engine.connect() as conn:
        by_status = dict(conn.execute(select(tickets.c.status, func.count())
                                      .group_by(tickets.c.status)).all())
        overdue = conn.execute(select(func.count()).select_from(tickets).where(
            tickets.c.status.in_(OPEN_STATUSES), tickets.c.resolution_due < today)).scalar_one()
        waiting = conn.execute(select(func.count()).select_from(handoffs).where(
            handoffs.c.closed_at.is_(None))).scalar_one()
        by_domain = dict(conn.execute(select(demands.c.domain, func.count())
                                      .group_by(demands.c.domain)).all())
        gaps = conn.execute(select(func.count()).select_from(kb_gaps)).scalar_one()
        by_channel = dict(conn.execute(select(turns.c.channel, func.count())
                                       .group_by(turns.c.channel)).all())
        confidence = _histogram(conn, turns.c.confidence, CONFIDENCE_BUCKETS)
        latency = _histogram(conn, turns.c.latency_ms, LATENCY_BUCKETS)
    lines += [f'govbot_tickets{{status="{s.value}"}} {by_status.get(s.value, 0)}' for s in Status]
    lines += ["# HELP govbot_tickets_overdue Open tickets past their resolution deadline.",
              "# TYPE govbot_tickets_overdue gauge", f"govbot_tickets_overdue {overdue}",
              "# HELP govbot_handoffs_waiting Conversations waiting for a person.",
              "# TYPE govbot_handoffs_waiting gauge", f"govbot_handoffs_waiting {waiting}",
              "# HELP govbot_outbox_pending Ticket requests waiting for the database.",
              "# TYPE govbot_outbox_pending gauge",
              f"govbot_outbox_pending {len(backend.outbox.pending())}",
              "# HELP govbot_demands_total Demands recognised, by domain.",
              "# TYPE govbot_demands_total counter"]
    lines += [f'govbot_demands_total{{domain="{_label(d)}"}} {n}'
              for d, n in sorted(by_domain.items())]
    lines += ["# HELP govbot_kb_gaps_total Policy questions the knowledge base could not answer.",
              "# TYPE govbot_kb_gaps_total counter", f"govbot_kb_gaps_total {gaps}",
              "# HELP govbot_turns_total User messages, by channel (event broker).",
              "# TYPE govbot_turns_total counter"]
    lines += [f'govbot_turns_total{{channel="{_label(c)}"}} {n}'
              for c, n in sorted(by_channel.items())]
    lines += _histogram_lines("govbot_nlu_confidence", "NLU intent confidence of user "
                              "messages.", confidence)
    lines += _histogram_lines("govbot_turn_latency_ms", "From a user message to the first "
                              "reply, in milliseconds.", latency)
    return lines


CONFIDENCE_BUCKETS = (0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 1.0)
LATENCY_BUCKETS = (50, 100, 250, 500, 1000, 2500, 5000)


def _histogram(conn, column, buckets) -> tuple[list[int], int, float]:  # noqa: ANN001
    """Cumulative bucket counts, count and sum of a column (NULLs left out)."""
    counts = [conn.execute(select(func.count()).where(column.is_not(None), column <= b))
              .scalar_one() for b in buckets]
    total, summed = conn.execute(select(func.count(column), func.coalesce(func.sum(column), 0))
                                 ).one()
    return counts, total, float(summed)


def _histogram_lines(name: str, help_text: str, data: tuple[list[int], int, float]) -> list[str]:
    counts, total, summed = data
    buckets = CONFIDENCE_BUCKETS if "confidence" in name else LATENCY_BUCKETS
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
    lines += [f'{name}_bucket{{le="{b}"}} {n}' for b, n in zip(buckets, counts, strict=True)]
    return lines + [f'{name}_bucket{{le="+Inf"}} {total}', f"{name}_count {total}",
                    f"{name}_sum {summed:g}"]
