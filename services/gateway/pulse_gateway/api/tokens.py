"""/api/tokens: API tokens for machines (scopes `ingest`, `read`); owners only.

The secret is answered once, by the POST that creates it; only its SHA-256 is stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, Field

from pulse_contracts.values import TokenScope

from ..db import listed
from ..deps import Owner, PoolDep
from ..handlers import tokens as handlers
from ..handlers.tokens import TokenIn
from ..repository import tokens as repo

router = APIRouter(prefix="/api/tokens", tags=["tokens"])


class TokenOut(BaseModel):
    id: UUID
    name: str
    scopes: list[TokenScope]
    created_by: UUID | None
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenCreated(BaseModel):
    id: UUID
    name: str
    scopes: list[TokenScope]
    token: str = Field(description="the secret: shown this once, never again")
    created_at: datetime


class TokenPage(BaseModel):
    items: list[TokenOut]
    next_cursor: str | None


@router.get("", response_model=TokenPage)
async def list_tokens(
    pool: PoolDep,
    caller: Owner,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    return await listed(pool, caller.org_id, repo.list_tokens, cursor=cursor, limit=limit)


@router.post("", response_model=TokenCreated, status_code=201)
async def create_token(pool: PoolDep, caller: Owner, body: TokenIn) -> dict[str, Any]:
    return await handlers.create_token(pool, caller, name=body.name, scopes=list(body.scopes))


@router.delete("/{token_id}", status_code=204)
async def revoke_token(pool: PoolDep, caller: Owner, token_id: UUID) -> Response:
    await handlers.revoke_token(pool, caller, token_id)
    return Response(status_code=204)
