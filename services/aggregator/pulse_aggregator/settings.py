"""The aggregator's settings: the shared service keys, nothing of its own yet."""

from __future__ import annotations

from typing import ClassVar

from pulse_runtime.settings import ServiceSettings


class AggregatorSettings(ServiceSettings):
    service: ClassVar[str] = "aggregator"
    default_port: ClassVar[int] = 8003
