"""Topology exported for ops matches the code; settings refuse default secrets in production."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from pulse_runtime.settings import ServiceSettings, with_user
from pulse_runtime.topology import QUEUES, definitions

ROOT = Path(__file__).resolve().parents[3]


def test_checked_in_rabbitmq_definitions_are_current() -> None:
    """Run `make schemas` when this fails."""
    on_disk = json.loads((ROOT / "deploy" / "rabbitmq" / "definitions.json").read_text())
    assert on_disk == definitions()


def test_every_consumer_queue_is_a_quorum_queue_with_a_dlq_and_delivery_limit() -> None:
    defs = definitions()
    queues = {q["name"]: q["arguments"] for q in defs["queues"]}
    for spec in QUEUES.values():
        assert spec.name.split(".")[0] in {
            "ingest",
            "aggregator",
            "alerter",
            "share",
            "gateway",
            "reporter",
        }
        args = queues[spec.name]
        assert args["x-queue-type"] == "quorum"
        assert args["x-delivery-limit"] == 5
        assert args["x-dead-letter-exchange"] == "pulse.dlx"
        assert args["x-dead-letter-strategy"] == "at-least-once"
        assert args["x-overflow"] == "reject-publish"
        assert spec.dlq_name in queues
    bindings = {(b["source"], b["destination"], b["routing_key"]) for b in defs["bindings"]}
    assert ("pulse.ingest", "ingest.items", "ingest.posts") in bindings
    assert ("pulse.events", "aggregator.posts", "post.pulled") in bindings
    # The alerter takes failed pulls and comment scores, but not the samples: it reads each
    # post's newest sample time from kpi.updated (design/events.md departure, docs/operations.md).
    alerter_posts = {key for source, queue, key in bindings if queue == "alerter.posts"}
    assert alerter_posts == {"post.pull_failed", "post.comments_scored"}


class _Example(ServiceSettings):
    service = "example"
    default_port = 9999


def test_production_refuses_the_development_service_token() -> None:
    with pytest.raises(ValidationError, match="PULSE_SERVICE_TOKEN"):
        _Example.load(environ={"PULSE_ENV": "production"})
    assert _Example.load(environ={"PULSE_ENV": "development"}).port == 9999


_PRODUCTION = {
    "PULSE_ENV": "production",
    "PULSE_SERVICE_TOKEN": "s3cret-token",
    "PULSE_AMQP_URL": "amqp://pulse_example:amqp-pw@mq.internal/",
    "PULSE_EXAMPLE_DATABASE_PASSWORD": "role-pw",
}


@pytest.mark.parametrize(
    "amqp_url",
    [
        "amqp://guest:guest@127.0.0.1:5672/",
        "amqp://guest@mq.internal/",
        "amqp://mq.internal/",  # no credentials: clients then log in as guest:guest
    ],
)
def test_production_refuses_rabbitmq_guest_credentials_naming_the_setting(amqp_url: str) -> None:
    with pytest.raises(ValidationError, match=r"PULSE_AMQP_URL \(or PULSE_EXAMPLE_AMQP_URL\)"):
        _Example.load(environ={**_PRODUCTION, "PULSE_EXAMPLE_AMQP_URL": amqp_url})
    assert _Example.load(
        environ={**_PRODUCTION, "PULSE_ENV": "development", "PULSE_AMQP_URL": amqp_url}
    )


def test_production_refuses_a_postgresql_connection_without_a_password() -> None:
    without = {k: v for k, v in _PRODUCTION.items() if k != "PULSE_EXAMPLE_DATABASE_PASSWORD"}
    with pytest.raises(ValidationError, match="PULSE_EXAMPLE_DATABASE_PASSWORD"):
        _Example.load(environ=without)
    with pytest.raises(ValidationError, match="PULSE_EXAMPLE_DATABASE_URL"):
        _Example.load(environ={**without, "PULSE_EXAMPLE_DATABASE_URL": "postgresql://x@db/pulse"})
    assert _Example.load(environ=_PRODUCTION).dsn.startswith("postgresql://pulse_example:role-pw@")
    assert _Example.load(environ={**without, "PULSE_ENV": "test"}).dsn


def test_per_service_keys_override_shared_ones_and_the_dsn_uses_the_service_role() -> None:
    env = {
        "PULSE_ENV": "production",
        "PULSE_SERVICE_TOKEN": "s3cret-token",
        "PULSE_DATABASE_URL": "postgresql://admin:pw@db.internal:5433/pulse",
        "PULSE_EXAMPLE_DATABASE_PASSWORD": "role-pw",
        "PULSE_EXAMPLE_PORT": "7000",
        "PULSE_AMQP_URL": "amqp://a@b/",
        "PULSE_EXAMPLE_AMQP_URL": "amqp://mine@b/",
    }
    settings = _Example.load(environ=env)
    assert settings.port == 7000
    assert settings.amqp_url == "amqp://mine@b/"
    assert settings.dsn == "postgresql://pulse_example:role-pw@db.internal:5433/pulse"
    own = _Example.load(environ={**env, "PULSE_EXAMPLE_DATABASE_URL": "postgresql://x:pw@y/z"})
    assert own.dsn == "postgresql://x:pw@y/z"
    assert own.database_url == env["PULSE_DATABASE_URL"], "migrations still use the cluster URL"


def test_with_user_keeps_host_port_and_database() -> None:
    assert with_user("postgresql://postgres@127.0.0.1:5432/pulse", "pulse_ingest") == (
        "postgresql://pulse_ingest@127.0.0.1:5432/pulse"
    )
