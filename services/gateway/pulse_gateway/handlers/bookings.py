"""Book influencers into campaigns, change the terms, and cancel bookings."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID, uuid4

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pulse_contracts.catalog import BookingDeleted, BookingUpserted
from pulse_runtime.db import Connection
from pulse_runtime.errors import Invalid, NotFound

from ..db import org_transaction, record
from ..deps import Principal
from ..repository import bookings as repo
from ..repository import campaigns as campaigns_repo
from ..repository import influencers as influencers_repo
from ..repository import posts as posts_repo
from .fields import Count, Notes, not_cleared
from .posts import record_removals

Days = Annotated[int, Field(ge=0, le=36_500)]
Posts = Annotated[int, Field(ge=0, le=1_000_000)]
Rate = Annotated[float, Field(ge=0, le=100)]


class BookingIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    influencer_id: UUID
    fee_cents: Count
    committed_views: Count | None = None
    committed_engagement: Count | None = None
    committed_posts: Posts | None = None
    min_engagement_rate: Rate | None = None
    exclusivity_days: Days | None = None
    usage_rights_days: Days | None = None
    notes: Notes = ""


class BookingPatch(BaseModel):
    """Every field but the campaign: a booking never moves to another campaign."""

    model_config = ConfigDict(extra="forbid")
    influencer_id: UUID | None = None
    fee_cents: Count | None = None
    committed_views: Count | None = None
    committed_engagement: Count | None = None
    committed_posts: Posts | None = None
    min_engagement_rate: Rate | None = None
    exclusivity_days: Days | None = None
    usage_rights_days: Days | None = None
    notes: Notes | None = None

    _kept = field_validator("influencer_id", "fee_cents", "notes")(not_cleared)


# campaign_id is not among them: a booking never moves to another campaign.
# What a change may name: every field of the Patch model, written once there.
FIELDS = tuple(BookingPatch.model_fields)


def _event(row: dict[str, Any]) -> BookingUpserted:
    return BookingUpserted(
        id=row["id"],
        campaign_id=row["campaign_id"],
        influencer_id=row["influencer_id"],
        fee_cents=row["fee_cents"],
        committed_views=row["committed_views"],
        committed_engagement=row["committed_engagement"],
        committed_posts=row["committed_posts"],
        min_engagement_rate=row["min_engagement_rate"],
        exclusivity_days=row["exclusivity_days"],
        usage_rights_days=row["usage_rights_days"],
        updated_at=row["updated_at"],
    )


async def _check_influencer(conn: Connection, caller: Principal, influencer_id: UUID) -> None:
    """The influencer must be the organization's (locked: it cannot be deleted meanwhile)."""
    found = await influencers_repo.get_influencer(
        conn, org_id=caller.org_id, influencer_id=influencer_id
    )
    if found is None:
        message = f"no influencer {influencer_id} in your organization"
        raise Invalid("influencer_id", message)


async def create_booking(
    pool: asyncpg.Pool, caller: Principal, campaign_id: UUID, values: dict[str, Any]
) -> dict[str, Any]:
    async with org_transaction(pool, caller.org_id) as conn:
        campaign = await campaigns_repo.get_campaign(
            conn, org_id=caller.org_id, campaign_id=campaign_id
        )
        if campaign is None:
            raise NotFound(f"no campaign {campaign_id}")
        await _check_influencer(conn, caller, values["influencer_id"])
        row = await repo.insert_booking(
            conn, org_id=caller.org_id, booking_id=uuid4(), campaign_id=campaign_id, values=values
        )
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="create",
            entity="booking",
            entity_id=row["id"],
            before=None,
            after=row,
            event=_event(row),
        )
    return row


async def update_booking(
    pool: asyncpg.Pool, caller: Principal, booking_id: UUID, changes: dict[str, Any]
) -> dict[str, Any]:
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_booking(conn, org_id=caller.org_id, booking_id=booking_id)
        if before is None:
            raise NotFound(f"no booking {booking_id}")
        merged = {field: changes.get(field, before[field]) for field in FIELDS}
        if merged["influencer_id"] != before["influencer_id"]:
            await _check_influencer(conn, caller, merged["influencer_id"])
        row = await repo.update_booking(
            conn, org_id=caller.org_id, booking_id=booking_id, values=merged
        )
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="update",
            entity="booking",
            entity_id=booking_id,
            before=before,
            after=row,
            event=_event(row),
        )
    return row


async def delete_booking(pool: asyncpg.Pool, caller: Principal, booking_id: UUID) -> None:
    """Soft-delete the booking and stop tracking its posts (their history is kept)."""
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_booking(conn, org_id=caller.org_id, booking_id=booking_id)
        if before is None:
            raise NotFound(f"no booking {booking_id}")
        removed = await posts_repo.remove_posts_of_booking(
            conn, org_id=caller.org_id, booking_id=booking_id
        )
        await record_removals(conn, caller, removed)
        deleted_at = await repo.delete_booking(conn, org_id=caller.org_id, booking_id=booking_id)
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="delete",
            entity="booking",
            entity_id=booking_id,
            before=before,
            after=None,
            event=BookingDeleted(
                id=booking_id, campaign_id=before["campaign_id"], deleted_at=deleted_at
            ),
        )
