"""Composition root of aggregator: settings, runtime, consumers, the recompute loop, routes."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import asyncpg
from fastapi import FastAPI

from pulse_runtime.service import ServiceRuntime, service_main
from pulse_runtime.settings import ServiceSettings
from pulse_runtime.topology import QUEUES

from .api import internal_reads
from .consumer import QUEUE_NAMES, Recomputer, register_consumers

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class AggregatorSettings(ServiceSettings):
    service: ClassVar[str] = "aggregator"
    default_port: ClassVar[int] = 8003


def create_app(settings: ServiceSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, queues=[QUEUES[name] for name in QUEUE_NAMES])
    recomputer = Recomputer()
    register_consumers(runtime, recomputer)
    app = runtime.http_app("Pulse aggregator", loops=[("recompute", recomputer.run)])

    def pool() -> asyncpg.Pool:
        return runtime.pool

    app.include_router(internal_reads(pool, settings.service_token.get_secret_value()))
    app.state.runtime = runtime
    return app


def main() -> None:
    service_main(AggregatorSettings, create_app, MIGRATIONS)
