"""structlog set up once: JSON lines carrying the correlation id of the request or message."""

from __future__ import annotations

import logging
import sys
from typing import Any
from uuid import uuid4

import structlog

CORRELATION_KEY = "correlation_id"


def configure_logging(service: str, level: str = "INFO") -> None:
    logging.basicConfig(format="%(message)s", stream=sys.stdout, level=level.upper())
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(),
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)


def current_correlation_id() -> str:
    """The id of the request or message being handled, so events it causes carry it on."""
    value = structlog.contextvars.get_contextvars().get(CORRELATION_KEY)
    return str(value) if value else str(uuid4())
