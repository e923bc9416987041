"""Integrations: inbound webhooks from other monitoring tools (issue 6)."""
