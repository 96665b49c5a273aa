"""What a chaos run does: how long it loads, how often it kills, which server faults it injects.

The full plan is issue 12's: at least 20 kill -9 per service, RabbitMQ and PostgreSQL each
restarted twice. The short plan is the CI version: a few kills and one fault of each server,
but only on the run's own vhost and database (other runs share the servers).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

from bench.system import SERVICES

# restart: the whole server (every user of it notices); connections: only this run's vhost's
# connections (rabbitmqctl close_all_connections --vhost) or database's sessions
# (pg_terminate_backend), which is what a restart looks like to the services.
FaultScope = Literal["restart", "connections"]


@dataclass(frozen=True)
class Plan:
    name: str
    kills_per_service: int
    services: tuple[str, ...]
    broker_faults: int
    database_faults: int
    server_scope: FaultScope
    # Seconds between two kills of one service (each service has its own killer).
    kill_gap_s: tuple[float, float]
    # Load: HTTP senders in flight and items per request; AMQP items per message.
    http_senders: int
    http_batch: int
    amqp_batch: int
    amqp_in_flight: int
    samples_per_s: float  # over both paths together
    # Of every batch, this share is re-sent later (duplicates) and this share held back and
    # sent after newer samples of the same posts (late samples).
    duplicate_share: float
    late_share: float
    # Catalog: live campaigns × bookings × posts per booking (plus one probe campaign).
    campaigns: int
    bookings: int
    posts_per_booking: int
    settle_timeout_s: float

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


FULL = Plan(
    name="full",
    kills_per_service=20,
    services=SERVICES,
    broker_faults=2,
    database_faults=2,
    server_scope="restart",
    kill_gap_s=(3.0, 15.0),
    http_senders=3,
    http_batch=200,
    amqp_batch=50,
    amqp_in_flight=8,
    samples_per_s=400.0,
    duplicate_share=0.15,
    late_share=0.1,
    campaigns=3,
    bookings=4,
    posts_per_booking=3,
    settle_timeout_s=600.0,
)

SHORT = Plan(
    name="short",
    kills_per_service=1,
    services=("ingest", "aggregator", "alerter"),
    broker_faults=1,
    database_faults=1,
    server_scope="connections",
    kill_gap_s=(3.0, 8.0),
    http_senders=2,
    http_batch=100,
    amqp_batch=25,
    amqp_in_flight=4,
    samples_per_s=400.0,
    duplicate_share=0.15,
    late_share=0.1,
    campaigns=2,
    bookings=2,
    posts_per_booking=3,
    settle_timeout_s=120.0,
)
