"""Closed-loop tickets: the status machine, the event log and the ticket store."""
