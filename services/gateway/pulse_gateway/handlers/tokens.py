"""Create and revoke API tokens; ingest learns both through the catalog events."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pulse_contracts.catalog import ApiTokenRevoked, ApiTokenUpserted
from pulse_contracts.values import TokenScope
from pulse_runtime.errors import NotFound

from ..db import org_transaction, record
from ..deps import Principal
from ..repository import tokens as repo
from ..security import new_api_token


class TokenIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    scopes: list[TokenScope] = Field(min_length=1, max_length=2)

    @field_validator("scopes")
    @classmethod
    def _distinct(cls, scopes: list[TokenScope]) -> list[TokenScope]:
        if len(set(scopes)) != len(scopes):
            raise ValueError("scopes must not repeat")
        return sorted(scopes)


async def create_token(
    pool: asyncpg.Pool, caller: Principal, *, name: str, scopes: list[str]
) -> dict[str, Any]:
    """The new token's row plus `token`, the secret: returned here once and never stored."""
    secret, digest = new_api_token()
    async with org_transaction(pool, caller.org_id) as conn:
        row = await repo.insert_token(
            conn,
            org_id=caller.org_id,
            token_id=uuid4(),
            name=name,
            token_sha256=digest,
            scopes=scopes,
            created_by=caller.user_id,
        )
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="create",
            entity="api_token",
            entity_id=row["id"],
            before=None,
            after=row,
            event=ApiTokenUpserted(
                id=row["id"],
                org_id=caller.org_id,
                name=row["name"],
                token_sha256=digest.hex(),
                scopes=row["scopes"],
                updated_at=row["updated_at"],
            ),
        )
    return {**row, "token": secret}


async def revoke_token(pool: asyncpg.Pool, caller: Principal, token_id: UUID) -> None:
    """Revoke at once; revoking a revoked token changes nothing. The row is kept."""
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_token(conn, org_id=caller.org_id, token_id=token_id)
        if before is None:
            raise NotFound(f"no API token {token_id}")
        row = await repo.revoke_token(conn, org_id=caller.org_id, token_id=token_id)
        if row is None:
            return
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="revoke",
            entity="api_token",
            entity_id=token_id,
            before=before,
            after=row,
            event=ApiTokenRevoked(id=token_id, org_id=caller.org_id, revoked_at=row["revoked_at"]),
        )
