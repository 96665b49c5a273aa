"""Composition root of share: settings, runtime (pool, broker, outbox relay), routes.

The share's own routes arrive with its issue; today it runs the shared skeleton (health,
readiness, metrics, AsyncAPI) so every deployment can already start and probe it.
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from fastapi import FastAPI

from pulse_runtime.service import ServiceRuntime, service_main
from pulse_runtime.settings import ServiceSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class ShareSettings(ServiceSettings):
    service: ClassVar[str] = "share"
    default_port: ClassVar[int] = 8002


def create_app(settings: ServiceSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, queues=[])
    app = runtime.http_app("Pulse share", loops=[])
    app.state.runtime = runtime
    return app


def main() -> None:
    service_main(ShareSettings, create_app, MIGRATIONS)
