"""Monitors, check runners (one module per kind), results, rollups and scheduling."""
