"""Pulse's wire contracts: the event envelope, every event and command, and shared value types."""

from . import alerts, benchmarks, catalog, numbers, posts, reports
from .envelope import (
    REGISTRY,
    ContractError,
    ContractModel,
    Envelope,
    EventData,
    make_event,
    parse_event,
    utcnow,
)

__all__ = [
    "REGISTRY",
    "ContractError",
    "ContractModel",
    "Envelope",
    "EventData",
    "alerts",
    "benchmarks",
    "catalog",
    "make_event",
    "numbers",
    "parse_event",
    "posts",
    "reports",
    "utcnow",
]
