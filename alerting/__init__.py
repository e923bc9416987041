"""Alert rules, alerts and their log, triggers and notifiers, inbound webhook sources."""
