"""The envelope every message travels in, and the registry that maps `type` to its data model."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field, ValidationError


class ContractModel(BaseModel):
    """Base for everything on the wire: unknown keys are refused so typos never pass silently."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class EventData(ContractModel):
    """The `data` of one message type. Subclasses set `event_type` and `event_version`."""

    event_type: ClassVar[str]
    event_version: ClassVar[int] = 1


DataT = TypeVar("DataT", bound=EventData)


class Envelope(ContractModel, Generic[DataT]):
    event_id: UUID
    type: str
    version: int = 1
    occurred_at: datetime
    org_id: UUID
    correlation_id: str = Field(max_length=200)
    producer: str = Field(max_length=50)
    data: DataT


class RawEnvelope(ContractModel):
    """The envelope before its data is validated against the type's model."""

    event_id: UUID
    type: str = Field(max_length=100)
    version: int = 1
    occurred_at: datetime
    org_id: UUID
    correlation_id: str = Field(max_length=200)
    producer: str = Field(max_length=50)
    data: dict[str, Any]


class ContractError(ValueError):
    """A message that no contract accepts. Consumers reject it to the DLQ with this reason."""


REGISTRY: dict[tuple[str, int], type[EventData]] = {}


def register(model: type[DataT]) -> type[DataT]:
    REGISTRY[(model.event_type, model.event_version)] = model
    return model


def utcnow() -> datetime:
    return datetime.now(UTC)


def make_event(
    data: DataT,
    *,
    org_id: UUID,
    producer: str,
    correlation_id: str | None = None,
    occurred_at: datetime | None = None,
    event_id: UUID | None = None,
) -> Envelope[DataT]:
    return Envelope[Any](
        event_id=event_id or uuid4(),
        type=data.event_type,
        version=data.event_version,
        occurred_at=occurred_at or utcnow(),
        org_id=org_id,
        correlation_id=correlation_id or str(uuid4()),
        producer=producer,
        data=data,
    )


def parse_event(body: bytes | str | dict[str, Any]) -> Envelope[EventData]:
    """Validate a message body against the envelope and its type's model, or raise ContractError."""
    try:
        raw = body if isinstance(body, dict) else json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ContractError(f"body is not JSON: {exc}") from exc
    try:
        envelope = RawEnvelope.model_validate(raw)
    except ValidationError as exc:
        raise ContractError(f"invalid envelope: {_errors(exc)}") from exc
    model = REGISTRY.get((envelope.type, envelope.version))
    if model is None:
        raise ContractError(f"unknown event type {envelope.type!r} version {envelope.version}")
    try:
        data = model.model_validate(envelope.data)
    except ValidationError as exc:
        raise ContractError(f"invalid {envelope.type} data: {_errors(exc)}") from exc
    return Envelope[EventData].model_construct(
        **{**envelope.__dict__, "data": data}  # already validated field by field
    )


def _errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or '<root>'}: {e['msg']}" for e in exc.errors()[:10]
    )
