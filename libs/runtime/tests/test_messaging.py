"""parse_envelope: the routing key only chooses a faster way to the same envelope; whatever it
says, a body parses exactly as parse_event parses it, or fails with parse_event's error."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from pulse_contracts import ContractError, parse_event
from pulse_contracts import make_event as make
from pulse_contracts.catalog import OrganizationUpserted
from pulse_contracts.posts import PostPulled, Sample
from pulse_runtime.messaging import parse_envelope

NOW = datetime(2026, 11, 20, 10, tzinfo=UTC)


def _pulled() -> bytes:
    sample = Sample(
        post_id=uuid4(),
        booking_id=uuid4(),
        campaign_id=uuid4(),
        platform="tiktok",
        observed_at=NOW,
        source="http",
        views=10,
        likes=None,
    )
    return (
        make(PostPulled(samples=[sample]), org_id=uuid4(), producer="ingest")
        .model_dump_json(by_alias=True)
        .encode()
    )


def _organization() -> bytes:
    data = OrganizationUpserted(id=uuid4(), name="Acme", updated_at=NOW)
    return make(data, org_id=data.id, producer="gateway").model_dump_json().encode()


@pytest.mark.parametrize("hint", ["post.pulled", "catalog.organization.upserted", "x.y", "", None])
@pytest.mark.parametrize("body", [_pulled(), _organization()])
def test_any_hint_gives_parse_events_envelope(body: bytes, hint: str | None) -> None:
    assert parse_envelope(body, hint) == parse_event(body)
    assert type(parse_envelope(body, hint).data) is type(parse_event(body).data)


def test_a_body_whose_type_differs_from_the_hint_is_not_taken_for_the_hint() -> None:
    raw = json.loads(_organization())
    raw["type"] = "catalog.client.upserted"  # valid shape for neither contract as sent
    with pytest.raises(ContractError, match=r"invalid catalog\.client\.upserted data"):
        parse_envelope(json.dumps(raw).encode(), "catalog.organization.upserted")


def test_another_version_than_the_hints_goes_by_the_registry() -> None:
    raw = json.loads(_pulled())
    raw["version"] = 2
    with pytest.raises(ContractError, match=r"unknown event type 'post\.pulled' version 2"):
        parse_envelope(json.dumps(raw).encode(), "post.pulled")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "body is not JSON"),
        (b'{"type": "post.pulled"}', "invalid envelope"),
    ],
)
def test_invalid_bodies_fail_with_parse_events_reason(body: bytes, reason: str) -> None:
    with pytest.raises(ContractError, match=reason):
        parse_envelope(body, "post.pulled")


def test_invalid_data_under_the_right_hint_names_the_field() -> None:
    raw = json.loads(_pulled())
    raw["data"]["samples"][0]["views"] = -1
    with pytest.raises(ContractError, match=r"invalid post\.pulled data: samples\.0\.views"):
        parse_envelope(json.dumps(raw).encode(), "post.pulled")
