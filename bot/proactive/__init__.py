"""Proactive service (主动服务): enterprise profiles, policies delivered to the enterprises
that qualify, deadline reminders (docs/proactive.md)."""
