"""Composition root of alerter: runtime, consumers, the sweep, routes."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from pulse_runtime.service import ServiceRuntime, service_main
from pulse_runtime.topology import QUEUES

from .api import internal_routes, notification_routes
from .consumer import QUEUE_NAMES, Evaluator, register_consumers, sweep_loop
from .notifier import NOTIFY_QUEUE, Notifier, register_notify_consumer
from .settings import AlerterSettings

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def create_app(settings: AlerterSettings) -> FastAPI:
    queue_names = dict.fromkeys((*QUEUE_NAMES, NOTIFY_QUEUE))
    runtime = ServiceRuntime(settings, queues=[QUEUES[name] for name in queue_names])
    evaluator = Evaluator()
    register_consumers(runtime, evaluator)
    # Notifications run on their own queue and loop, never inside an evaluation's transaction.
    notifier = Notifier(settings.notify_config())
    register_notify_consumer(runtime, notifier)
    app = runtime.http_app(
        "Pulse alerter",
        loops=[
            ("evaluate", evaluator.run),
            ("sweep", sweep_loop(settings.sweep_seconds, evaluator.held)),
            ("notify", notifier.run),
        ],
    )

    token = settings.service_token.get_secret_value()
    app.include_router(internal_routes(runtime.get_pool, token))
    app.include_router(notification_routes(runtime.get_pool, token, notifier.config))
    app.state.runtime = runtime
    return app


def main() -> None:
    service_main(AlerterSettings, create_app, MIGRATIONS)
