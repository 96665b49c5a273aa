"""parse_envelope: the routing key only chooses a faster way to the same envelope; whatever it
says, a body parses exactly as parse_event parses it, or fails with parse_event's error."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import ClassVar
from uuid import UUID, uuid4

import pytest
from pydantic import BaseModel, ConfigDict, Field

from pulse_contracts import ContractError, EventData, parse_event
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


# --- narrow: a consumer's own data model for the types it names --------------------------------


class _PostIdOnly(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    post_id: UUID


class _PulledIds(EventData):
    """post.pulled as a consumer reading only the samples' post ids would decode it."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    event_type: ClassVar[str] = "post.pulled"
    samples: list[_PostIdOnly] = Field(min_length=1)


NARROW: dict[str, type[EventData]] = {"post.pulled": _PulledIds}


def test_narrow_decodes_only_the_named_fields_of_the_same_envelope() -> None:
    body = _pulled()
    full = parse_event(body)
    narrow = parse_envelope(body, "post.pulled", NARROW)
    assert isinstance(narrow.data, _PulledIds)
    assert narrow.model_dump(exclude={"data"}) == full.model_dump(exclude={"data"})
    assert isinstance(full.data, PostPulled)
    assert [s.post_id for s in narrow.data.samples] == [s.post_id for s in full.data.samples]


def test_narrow_leaves_other_types_to_their_contract() -> None:
    body = _organization()
    assert parse_envelope(body, "catalog.organization.upserted", NARROW) == parse_event(body)


def test_narrow_follows_the_bodys_own_type_when_the_hint_names_another() -> None:
    envelope = parse_envelope(_pulled(), "catalog.organization.upserted", NARROW)
    assert isinstance(envelope.data, _PulledIds)
    envelope = parse_envelope(_pulled(), None, NARROW)
    assert isinstance(envelope.data, _PulledIds)


def test_narrow_ignores_what_it_does_not_read_but_refuses_what_it_does() -> None:
    raw = json.loads(_pulled())
    raw["data"]["samples"][0]["views"] = -1  # the contract refuses it; this reader never reads it
    assert isinstance(
        parse_envelope(json.dumps(raw).encode(), "post.pulled", NARROW).data, _PulledIds
    )
    raw["data"]["samples"][0]["post_id"] = "not-a-uuid"
    with pytest.raises(ContractError, match=r"invalid post\.pulled data: .*samples\.0\.post_id"):
        parse_envelope(json.dumps(raw).encode(), "post.pulled", NARROW)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"org_id": "nope"}, r"invalid envelope: org_id"),
        ({"surprise": 1}, r"invalid envelope: surprise"),
        ({"version": 2}, r"unknown event type 'post\.pulled' version 2"),
        ({"data": {"samples": []}}, r"invalid post\.pulled data: samples"),
    ],
)
def test_narrow_refuses_a_bad_envelope_as_parse_event_does(
    change: dict[str, object], reason: str
) -> None:
    raw = {**json.loads(_pulled()), **change}
    with pytest.raises(ContractError, match=reason):
        parse_envelope(json.dumps(raw).encode(), "post.pulled", NARROW)
    with pytest.raises(ContractError, match=reason):
        parse_event(json.dumps(raw).encode())


def test_narrow_refuses_bodies_that_are_not_json() -> None:
    with pytest.raises(ContractError, match="body is not JSON"):
        parse_envelope(b"{not json", "post.pulled", NARROW)
