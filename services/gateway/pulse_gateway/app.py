"""Composition root of gateway: settings, runtime (pool, broker, outbox relay), routes.

The gateway's own routes arrive with its issue; today it runs the shared skeleton (health,
readiness, metrics, AsyncAPI) so every deployment can already start and probe it.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from fastapi import FastAPI

from pulse_runtime.service import ServiceRuntime, service_main
from pulse_runtime.settings import ServiceSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class GatewaySettings(ServiceSettings):
    service: ClassVar[str] = "gateway"
    default_port: ClassVar[int] = 8000


def create_app(settings: ServiceSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, queues=[])
    app = runtime.http_app("Pulse gateway", loops=[])
    app.state.runtime = runtime
    return app


def main() -> None:
    service_main(GatewaySettings, create_app, MIGRATIONS)
