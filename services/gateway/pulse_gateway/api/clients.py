"""/api/clients: the brands an agency runs campaigns for."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from pulse_runtime.errors import ApiError

from ..db import listed, org_read
from ..deps import Manager, PoolDep, Reader
from ..handlers import clients as handlers
from ..handlers.clients import ClientIn, ClientPatch
from ..repository import clients as repo

router = APIRouter(prefix="/api/clients", tags=["clients"])


class ClientOut(BaseModel):
    id: UUID
    name: str
    brand_color: str | None
    logo_url: str | None
    created_at: datetime
    updated_at: datetime


class ClientPage(BaseModel):
    items: list[ClientOut]
    next_cursor: str | None


@router.get("", response_model=ClientPage)
async def list_clients(
    pool: PoolDep,
    caller: Reader,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    return await listed(pool, caller.org_id, repo.list_clients, cursor=cursor, limit=limit)


@router.post("", response_model=ClientOut, status_code=201)
async def create_client(pool: PoolDep, caller: Manager, body: ClientIn) -> dict[str, Any]:
    return await handlers.create_client(pool, caller, body.model_dump())


@router.get("/{client_id}", response_model=ClientOut)
async def get_client(pool: PoolDep, caller: Reader, client_id: UUID) -> dict[str, Any]:
    async with org_read(pool, caller.org_id) as conn:
        row = await repo.read_client(conn, org_id=caller.org_id, client_id=client_id)
    if row is None:
        raise ApiError(404, f"no client {client_id}")
    return row


@router.patch("/{client_id}", response_model=ClientOut)
async def update_client(
    pool: PoolDep, caller: Manager, client_id: UUID, body: ClientPatch
) -> dict[str, Any]:
    return await handlers.update_client(
        pool, caller, client_id, body.model_dump(exclude_unset=True)
    )


@router.delete("/{client_id}", status_code=204)
async def delete_client(pool: PoolDep, caller: Manager, client_id: UUID) -> Response:
    await handlers.delete_client(pool, caller, client_id)
    return Response(status_code=204)
