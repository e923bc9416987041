"""Statuspage-compatible public API (``/api/v2/*.json``): ``shapes`` (pure
mapping to Statuspage's objects) and ``views`` (the endpoints)."""
