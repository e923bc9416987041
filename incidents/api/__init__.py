"""Incidents API (v1): incidents, their updates and timeline, and maintenance windows."""
