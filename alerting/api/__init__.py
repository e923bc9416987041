"""Alerting API (v1): alert rules, alerts and the alert log."""
