"""Incidents, updates, affected monitors, maintenance windows and their lifecycle."""
