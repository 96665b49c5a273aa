"""Create, change and remove campaigns."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from uuid import UUID, uuid4

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pulse_contracts.catalog import CampaignDeleted, CampaignUpserted
from pulse_contracts.values import CampaignStatus
from pulse_runtime.db import Connection
from pulse_runtime.errors import Invalid, NotFound

from ..db import org_read, org_transaction, record
from ..deps import Principal
from ..repository import campaigns as repo
from ..repository import numbers as numbers_repo
from ..repository import posts as posts_repo
from .fields import Count, Notes, not_cleared
from .posts import record_removals

Name = Annotated[str, Field(min_length=1, max_length=200)]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO-4217, e.g. EUR")]


class CampaignIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: UUID
    name: Name
    status: CampaignStatus = "draft"
    start_date: date
    end_date: date
    budget_cents: Count | None = None
    currency: Currency = "USD"
    committed_views: Count | None = None
    committed_engagement: Count | None = None
    notes: Notes = ""


class CampaignPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    client_id: UUID | None = None
    name: Name | None = None
    status: CampaignStatus | None = None
    start_date: date | None = None
    end_date: date | None = None
    budget_cents: Count | None = None
    currency: Currency | None = None
    committed_views: Count | None = None
    committed_engagement: Count | None = None
    notes: Notes | None = None

    _kept = field_validator(
        "client_id", "name", "status", "start_date", "end_date", "currency", "notes"
    )(not_cleared)


# What a change may name: every field of the Patch model, written once there.
FIELDS = tuple(CampaignPatch.model_fields)


def _event(row: dict[str, Any]) -> CampaignUpserted:
    return CampaignUpserted(
        id=row["id"],
        client_id=row["client_id"],
        name=row["name"],
        status=row["status"],
        start_date=row["start_date"],
        end_date=row["end_date"],
        budget_cents=row["budget_cents"],
        currency=row["currency"],
        committed_views=row["committed_views"],
        committed_engagement=row["committed_engagement"],
        updated_at=row["updated_at"],
    )


async def _check(
    conn: Connection, caller: Principal, values: dict[str, Any], *, client_changed: bool
) -> None:
    if values["end_date"] < values["start_date"]:
        message = "end_date must be on or after start_date"
        raise Invalid("end_date", message)
    if client_changed and not await repo.client_exists(
        conn, org_id=caller.org_id, client_id=values["client_id"]
    ):
        # The same answer for another organization's client as for one that does not exist.
        message = f"no client {values['client_id']} in your organization"
        raise Invalid("client_id", message)


async def create_campaign(
    pool: asyncpg.Pool, caller: Principal, values: dict[str, Any]
) -> dict[str, Any]:
    async with org_transaction(pool, caller.org_id) as conn:
        await _check(conn, caller, values, client_changed=True)
        row = await repo.insert_campaign(
            conn, org_id=caller.org_id, campaign_id=uuid4(), values=values
        )
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="create",
            entity="campaign",
            entity_id=row["id"],
            before=None,
            after=row,
            event=_event(row),
        )
    return row


async def update_campaign(
    pool: asyncpg.Pool, caller: Principal, campaign_id: UUID, changes: dict[str, Any]
) -> dict[str, Any]:
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_campaign(conn, org_id=caller.org_id, campaign_id=campaign_id)
        if before is None:
            raise NotFound(f"no campaign {campaign_id}")
        merged = {field: changes.get(field, before[field]) for field in FIELDS}
        await _check(
            conn, caller, merged, client_changed=merged["client_id"] != before["client_id"]
        )
        row = await repo.update_campaign(
            conn, org_id=caller.org_id, campaign_id=campaign_id, values=merged
        )
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="update",
            entity="campaign",
            entity_id=campaign_id,
            before=before,
            after=row,
            event=_event(row),
        )
    return row


async def delete_campaign(pool: asyncpg.Pool, caller: Principal, campaign_id: UUID) -> None:
    """Soft-delete the campaign and stop tracking its posts (their history is kept)."""
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_campaign(conn, org_id=caller.org_id, campaign_id=campaign_id)
        if before is None:
            raise NotFound(f"no campaign {campaign_id}")
        removed = await posts_repo.remove_posts_of_campaign(
            conn, org_id=caller.org_id, campaign_id=campaign_id
        )
        await record_removals(conn, caller, removed)
        deleted_at = await repo.delete_campaign(conn, org_id=caller.org_id, campaign_id=campaign_id)
        # Its numbers go with it (a late kpi.updated may bring them back: reads check the
        # catalog first, so a deleted campaign's numbers are never shown).
        await numbers_repo.delete_document(conn, org_id=caller.org_id, campaign_id=campaign_id)
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="delete",
            entity="campaign",
            entity_id=campaign_id,
            before=before,
            after=None,
            event=CampaignDeleted(id=campaign_id, deleted_at=deleted_at),
        )


async def require_campaigns(pool: asyncpg.Pool, org_id: UUID, campaign_ids: list[UUID]) -> None:
    """404 unless every campaign exists in the organization (another org's is missing too)."""
    async with org_read(pool, org_id) as conn:
        found = await repo.existing_ids(conn, org_id=org_id, ids=campaign_ids)
    missing = [cid for cid in campaign_ids if cid not in found]
    if missing:
        raise NotFound(f"no campaign {missing[0]}")
