"""Create, change and remove influencers (with their handles)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID, uuid4

import asyncpg
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from pulse_contracts.catalog import Handle, InfluencerUpserted
from pulse_contracts.values import Platform
from pulse_runtime.errors import Conflict, NotFound

from ..db import org_transaction, record
from ..deps import Principal
from ..repository import influencers as repo
from .fields import HttpsUrl, Notes, not_cleared

MAX_HANDLES = 20


class HandleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: Platform
    handle: str = Field(min_length=1, max_length=100, pattern=r"^[^\s@]+$")
    followers: int | None = Field(default=None, ge=0, le=10**12)

    @field_validator("handle", mode="before")
    @classmethod
    def _strip_at(cls, value: object) -> object:
        """People paste "@name"; the handle is "name"."""
        return value.strip().removeprefix("@") if isinstance(value, str) else value


def _distinct(handles: list[HandleIn]) -> list[HandleIn]:
    seen: set[tuple[str, str]] = set()
    for h in handles:
        key = (h.platform, h.handle.lower())
        if key in seen:
            raise ValueError(f"{h.platform} handle {h.handle!r} is listed twice")
        seen.add(key)
    return handles


Handles = Annotated[list[HandleIn], Field(max_length=MAX_HANDLES), AfterValidator(_distinct)]
DisplayName = Annotated[str, Field(min_length=1, max_length=200)]
Tier = Annotated[str, Field(min_length=1, max_length=100)]


class InfluencerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    display_name: DisplayName
    avatar_url: HttpsUrl | None = None
    tier: Tier | None = None
    notes: Notes = ""
    handles: Handles = Field(default_factory=list)


class InfluencerPatch(BaseModel):
    """`handles`, when given, replaces the whole list."""

    model_config = ConfigDict(extra="forbid")
    display_name: DisplayName | None = None
    avatar_url: HttpsUrl | None = None
    tier: Tier | None = None
    notes: Notes | None = None
    handles: Handles | None = None

    _kept = field_validator("display_name", "notes", "handles")(not_cleared)


# What a change may name: every field of the Patch model, written once there.
FIELDS = tuple(InfluencerPatch.model_fields)


def _event(row: dict[str, Any]) -> InfluencerUpserted:
    return InfluencerUpserted(
        id=row["id"],
        display_name=row["display_name"],
        avatar_url=row["avatar_url"],
        tier=row["tier"],
        handles=[
            Handle(platform=h["platform"], handle=h["handle"], followers=h["followers"])
            for h in row["handles"]
        ],
        updated_at=row["updated_at"],
    )


async def create_influencer(
    pool: asyncpg.Pool, caller: Principal, values: dict[str, Any]
) -> dict[str, Any]:
    async with org_transaction(pool, caller.org_id) as conn:
        row = await repo.insert_influencer(
            conn, org_id=caller.org_id, influencer_id=uuid4(), values=values
        )
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="create",
            entity="influencer",
            entity_id=row["id"],
            before=None,
            after=row,
            event=_event(row),
        )
    return row


async def update_influencer(
    pool: asyncpg.Pool, caller: Principal, influencer_id: UUID, changes: dict[str, Any]
) -> dict[str, Any]:
    """Change the influencer; `handles`, when given, replaces the whole list."""
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_influencer(conn, org_id=caller.org_id, influencer_id=influencer_id)
        if before is None:
            raise NotFound(f"no influencer {influencer_id}")
        merged = {field: changes.get(field, before[field]) for field in FIELDS}
        row = await repo.update_influencer(
            conn, org_id=caller.org_id, influencer_id=influencer_id, values=merged
        )
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="update",
            entity="influencer",
            entity_id=influencer_id,
            before=before,
            after=row,
            event=_event(row),
        )
    return row


async def delete_influencer(pool: asyncpg.Pool, caller: Principal, influencer_id: UUID) -> None:
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_influencer(conn, org_id=caller.org_id, influencer_id=influencer_id)
        if before is None:
            raise NotFound(f"no influencer {influencer_id}")
        if await repo.influencer_in_use(conn, org_id=caller.org_id, influencer_id=influencer_id):
            raise Conflict("this influencer still has bookings; delete those first")
        await repo.delete_influencer(conn, org_id=caller.org_id, influencer_id=influencer_id)
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="delete",
            entity="influencer",
            entity_id=influencer_id,
            before=before,
            after=None,
            event=None,  # the contracts have no influencer deletion; bookings are gone already
        )
