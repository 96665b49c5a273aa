"""API tokens: stored as their SHA-256 only; the hash is written here and never read back."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pulse_runtime.db import Connection

from . import sql


async def list_tokens(
    conn: Connection, *, org_id: UUID, after: tuple[datetime, UUID] | None, limit: int
) -> list[dict[str, Any]]:
    at, last = after or (None, None)
    return [dict(r) for r in await conn.fetch(sql.tokens_list, org_id, at, last, limit)]


async def get_token(conn: Connection, *, org_id: UUID, token_id: UUID) -> dict[str, Any] | None:
    """The token (never its hash), locked for the rest of the transaction."""
    row = await conn.fetchrow(sql.tokens_get, org_id, token_id)
    return dict(row) if row else None


async def insert_token(
    conn: Connection,
    *,
    org_id: UUID,
    token_id: UUID,
    name: str,
    token_sha256: bytes,
    scopes: list[str],
    created_by: UUID | None,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        sql.tokens_insert, token_id, org_id, name, token_sha256, scopes, created_by
    )
    assert row is not None
    return dict(row)


async def revoke_token(conn: Connection, *, org_id: UUID, token_id: UUID) -> dict[str, Any] | None:
    """The revoked token, or None when it was already revoked (the row is kept either way)."""
    row = await conn.fetchrow(sql.tokens_revoke, org_id, token_id)
    return dict(row) if row else None


async def token_by_hash(conn: Connection, token_sha256: bytes) -> dict[str, Any] | None:
    """A live token's id, organization and scopes (only inside `db.auth_lookup`: the
    organization is not known yet)."""
    row = await conn.fetchrow(sql.tokens_by_hash, token_sha256)
    return dict(row) if row else None


async def touch_token(conn: Connection, token_id: UUID) -> None:
    """Record the token's use, at most once a minute."""
    await conn.execute(sql.tokens_touch, token_id)
