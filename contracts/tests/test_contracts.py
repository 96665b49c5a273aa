"""Contracts: the envelope round-trips, bad bodies are refused with a reason, schemas are fresh."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from pulse_contracts import REGISTRY, ContractError, make_event, parse_event
from pulse_contracts.posts import PostPulled, Sample
from pulse_contracts.schemas import DEFAULT_DIR, render, schema_documents


def _pulled() -> PostPulled:
    return PostPulled(
        samples=[
            Sample(
                post_id=uuid4(),
                booking_id=uuid4(),
                campaign_id=uuid4(),
                platform="instagram",
                observed_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
                views=10,
                likes=2,
                source="http",
            )
        ]
    )


def test_envelope_round_trips_with_utc_z_timestamps() -> None:
    event = make_event(_pulled(), org_id=uuid4(), producer="ingest", correlation_id="abc")
    body = event.model_dump_json()
    assert '"observed_at":"2026-11-20T10:00:00Z"' in body
    parsed = parse_event(body)
    assert parsed.type == "post.pulled"
    assert parsed.data == event.data
    assert parsed.correlation_id == "abc"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b'{"type": "post.pulled"}', "invalid envelope"),
        (
            json.dumps(
                {
                    "event_id": str(uuid4()),
                    "type": "post.exploded",
                    "occurred_at": "2026-11-20T10:00:00Z",
                    "org_id": str(uuid4()),
                    "correlation_id": "c",
                    "producer": "x",
                    "data": {},
                }
            ).encode(),
            "unknown event type 'post.exploded'",
        ),
        (
            json.dumps(
                {
                    "event_id": str(uuid4()),
                    "type": "post.pulled",
                    "occurred_at": "2026-11-20T10:00:00Z",
                    "org_id": str(uuid4()),
                    "correlation_id": "c",
                    "producer": "x",
                    "data": {"samples": []},
                }
            ).encode(),
            "invalid post.pulled data: samples",
        ),
    ],
)
def test_bodies_no_contract_accepts_are_refused_with_the_reason(body: bytes, reason: str) -> None:
    with pytest.raises(ContractError, match=reason):
        parse_event(body)


def test_negative_counters_and_unknown_keys_are_refused() -> None:
    event = json.loads(make_event(_pulled(), org_id=uuid4(), producer="ingest").model_dump_json())
    event["data"]["samples"][0]["views"] = -1
    with pytest.raises(ContractError, match=r"samples\.0\.views"):
        parse_event(json.dumps(event))
    event["data"]["samples"][0]["views"] = 1
    event["data"]["samples"][0]["fee_cents"] = 5
    with pytest.raises(ContractError, match="fee_cents"):
        parse_event(json.dumps(event))


def test_every_event_of_the_design_has_a_contract() -> None:
    types = {event_type for event_type, _ in REGISTRY}
    assert types >= {
        "catalog.organization.upserted",
        "catalog.api_token.upserted",
        "catalog.api_token.revoked",
        "catalog.client.upserted",
        "catalog.campaign.upserted",
        "catalog.campaign.deleted",
        "catalog.influencer.upserted",
        "catalog.booking.upserted",
        "catalog.booking.deleted",
        "catalog.post.registered",
        "catalog.post.removed",
        "post.pulled",
        "post.pull_failed",
        "kpi.updated",
        "alert.raised",
        "alert.resolved",
        "ingest.fetch_posts",
    }


def test_checked_in_json_schemas_are_current() -> None:
    """Run `make schemas` when this fails: the checked-in schemas no longer match the models."""
    documents = schema_documents()
    on_disk = {p.name for p in DEFAULT_DIR.glob("*.json")}
    assert on_disk == set(documents), "schema files added or removed: run `make schemas`"
    for name, schema in documents.items():
        assert (DEFAULT_DIR / name).read_text() == render(schema), f"{name} is stale"
