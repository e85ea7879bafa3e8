"""The application database's tables, one module per concern (SQLAlchemy Core; the
Alembic migrations in ``bot/db/migrations`` follow them — a test checks the two agree)."""

from bot.db.schema.audit import api_audit
from bot.db.schema.base import metadata
from bot.db.schema.kb import faq_proposals, kb_feedback, kb_gaps
from bot.db.schema.proactive import (
    enterprise_profiles,
    policy_deliveries,
    policy_versions,
    proactive_marks,
    profile_audit,
)
from bot.db.schema.stats import demands, turns
from bot.db.schema.tickets import (
    STATS_COLUMNS,
    handoffs,
    lookup_failures,
    ticket_events,
    ticket_links,
    ticket_requests,
    ticket_sequences,
    tickets,
)
from bot.db.schema.web import login_failures, nlu_corrections, web_sessions, web_users

__all__ = [
    "STATS_COLUMNS", "api_audit", "demands", "enterprise_profiles", "faq_proposals",
    "handoffs", "kb_feedback", "kb_gaps", "login_failures", "lookup_failures", "metadata",
    "nlu_corrections", "policy_deliveries", "policy_versions", "proactive_marks",
    "profile_audit",
    "ticket_events", "ticket_links", "ticket_requests", "ticket_sequences", "tickets", "turns",
    "web_sessions", "web_users",
]
