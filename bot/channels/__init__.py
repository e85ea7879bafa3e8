"""Rasa input channels of govbot (configured in credentials.yml)."""
