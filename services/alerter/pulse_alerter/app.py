"""Composition root of alerter: settings, runtime, consumers, the sweep, routes."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

import asyncpg
from fastapi import FastAPI

from pulse_runtime.service import ServiceRuntime, service_main
from pulse_runtime.settings import ServiceSettings
from pulse_runtime.topology import QUEUES

from .api import internal_routes
from .consumer import QUEUE_NAMES, register_consumers, sweep_loop

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class AlerterSettings(ServiceSettings):
    service: ClassVar[str] = "alerter"
    default_port: ClassVar[int] = 8004
    sweep_seconds: float = 300.0  # kpis.md: every live campaign every 5 minutes


def create_app(settings: ServiceSettings) -> FastAPI:
    assert isinstance(settings, AlerterSettings)
    runtime = ServiceRuntime(settings, queues=[QUEUES[name] for name in QUEUE_NAMES])
    register_consumers(runtime)
    app = runtime.http_app("Pulse alerter", loops=[("sweep", sweep_loop(settings.sweep_seconds))])

    def pool() -> asyncpg.Pool:
        return runtime.pool

    app.include_router(internal_routes(pool, settings.service_token.get_secret_value()))
    app.state.runtime = runtime
    return app


def main() -> None:
    service_main(AlerterSettings, create_app, MIGRATIONS)
