"""Composition root of ingest: settings, runtime (pool, broker, relay), consumers, routes."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import asyncpg
from fastapi import FastAPI

from pulse_runtime.service import ServiceRuntime, service_main
from pulse_runtime.settings import ServiceSettings
from pulse_runtime.topology import QUEUES

from .api import ingest_router, internal_reads
from .consumer import QUEUE_NAMES, register_consumers

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class IngestSettings(ServiceSettings):
    service: ClassVar[str] = "ingest"
    default_port: ClassVar[int] = 8001


def create_app(settings: ServiceSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, queues=[QUEUES[name] for name in QUEUE_NAMES])
    register_consumers(runtime)
    app = runtime.http_app("Pulse ingest", loops=[])

    def pool() -> asyncpg.Pool:
        return runtime.pool

    app.include_router(ingest_router(pool))
    app.include_router(internal_reads(pool, settings.service_token.get_secret_value()))
    app.state.runtime = runtime
    return app


def main() -> None:
    service_main(IngestSettings, create_app, MIGRATIONS)
