"""Notifiers: one module per trigger kind behind ``base.Sender`` / ``trigger.TriggerNotifier``,
and the registry (``base.get_sender(channel)``). See ``base`` for the contract."""

from .base import (
    DELIVERY_HEADER,
    HttpSender,
    Outcome,
    Sender,
    classify_status,
    get_sender,
    opened,
    register,
    senders,
    trigger_kinds,
)

__all__ = [
    "DELIVERY_HEADER",
    "HttpSender",
    "Outcome",
    "Sender",
    "classify_status",
    "get_sender",
    "opened",
    "register",
    "senders",
    "trigger_kinds",
]
