"""Create, change and remove clients."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID, uuid4

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from pulse_contracts.catalog import ClientUpserted
from pulse_runtime.errors import Conflict, NotFound

from ..db import org_transaction, record
from ..deps import Principal
from ..repository import clients as repo
from .fields import HttpsUrl

Color = Annotated[str, Field(pattern=r"^#[0-9a-fA-F]{6}$")]


class ClientIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    brand_color: Color | None = None
    logo_url: HttpsUrl | None = None


class ClientPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    brand_color: Color | None = None
    logo_url: HttpsUrl | None = None


# What a change may name: every field of the Patch model, written once there.
FIELDS = tuple(ClientPatch.model_fields)


def _event(row: dict[str, Any]) -> ClientUpserted:
    return ClientUpserted(
        id=row["id"],
        name=row["name"],
        brand_color=row["brand_color"],
        logo_url=row["logo_url"],
        updated_at=row["updated_at"],
    )


async def create_client(
    pool: asyncpg.Pool, caller: Principal, values: dict[str, Any]
) -> dict[str, Any]:
    async with org_transaction(pool, caller.org_id) as conn:
        row = await repo.insert_client(conn, org_id=caller.org_id, client_id=uuid4(), values=values)
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="create",
            entity="client",
            entity_id=row["id"],
            before=None,
            after=row,
            event=_event(row),
        )
    return row


async def update_client(
    pool: asyncpg.Pool, caller: Principal, client_id: UUID, changes: dict[str, Any]
) -> dict[str, Any]:
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_client(conn, org_id=caller.org_id, client_id=client_id)
        if before is None:
            raise NotFound(f"no client {client_id}")
        merged = {field: changes.get(field, before[field]) for field in FIELDS}
        row = await repo.update_client(
            conn, org_id=caller.org_id, client_id=client_id, values=merged
        )
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="update",
            entity="client",
            entity_id=client_id,
            before=before,
            after=row,
            event=_event(row),
        )
    return row


async def delete_client(pool: asyncpg.Pool, caller: Principal, client_id: UUID) -> None:
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_client(conn, org_id=caller.org_id, client_id=client_id)
        if before is None:
            raise NotFound(f"no client {client_id}")
        if await repo.client_in_use(conn, org_id=caller.org_id, client_id=client_id):
            raise Conflict("this client still has campaigns; delete or move them first")
        await repo.delete_client(conn, org_id=caller.org_id, client_id=client_id)
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="delete",
            entity="client",
            entity_id=client_id,
            before=before,
            after=None,
            event=None,
        )
