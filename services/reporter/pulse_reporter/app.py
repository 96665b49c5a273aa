"""Composition root of reporter: runtime, the job consumer, retention, routes.

Files are kept in PostgreSQL (reporter.files, bytea) rather than a directory: every replica
and every download sees them without a shared volume, they are written in the transaction
that ends their job, and the retention period is a DELETE (migrations/0001_reporter.sql).
"""

from __future__ import annotations

import socket
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI

from pulse_runtime.service import ServiceRuntime, service_main
from pulse_runtime.topology import QUEUES

from .api import internal_routes, schedule_routes
from .consumer import QUEUE_NAMES, register_consumers, retention_loop
from .handlers import RenderConfig
from .schedules import ScheduleConfig, schedule_loop
from .settings import ReporterSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(settings: ReporterSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, queues=[QUEUES[name] for name in QUEUE_NAMES])
    config = RenderConfig(
        replica=settings.replica_name or f"{socket.gethostname()}:{settings.port}",
        retention_days=settings.retention_days,
    )
    register_consumers(runtime, config, settings.render_slots)
    scheduled = ScheduleConfig(
        replica=config.replica,
        share_url=settings.share_url,
        mail=settings,
        lease=timedelta(seconds=settings.schedule_lease_s),
        poll_s=settings.schedule_poll_s,
    )
    token = settings.service_token.get_secret_value()
    app = runtime.http_app(
        "Pulse reporter",
        loops=[
            ("retention", retention_loop(settings.retention_sweep_s)),
            ("schedules", schedule_loop(scheduled, token)),
        ],
    )

    app.include_router(internal_routes(runtime.get_pool, token))
    app.include_router(schedule_routes(runtime.get_pool, token))
    app.state.runtime = runtime
    return app


def main() -> None:
    service_main(ReporterSettings, create_app, MIGRATIONS)
