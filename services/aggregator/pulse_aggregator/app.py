"""Composition root of aggregator: runtime, consumers, the recompute loop, routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from pulse_runtime.service import ServiceRuntime, service_main
from pulse_runtime.topology import QUEUES
from pulse_runtime.vacuum import vacuum_loop

from .api import internal_reads
from .consumer import QUEUE_NAMES, Recomputer, register_consumers
from .settings import AggregatorSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(settings: AggregatorSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, queues=[QUEUES[name] for name in QUEUE_NAMES])
    recomputer = Recomputer()
    register_consumers(runtime, recomputer)
    app = runtime.http_app(
        "Pulse aggregator",
        loops=[
            ("recompute", recomputer.run),
            # Every close is queued here and taken by its campaign's next recompute.
            ("vacuum", vacuum_loop(["pending_closes"])),
        ],
    )
    app.include_router(internal_reads(runtime.get_pool, settings.service_token.get_secret_value()))
    app.state.runtime = runtime
    return app


def main() -> None:
    service_main(AggregatorSettings, create_app, MIGRATIONS)
