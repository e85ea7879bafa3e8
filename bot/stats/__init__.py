"""Demand statistics: what enterprises ask for, and how the closed loop performs."""
