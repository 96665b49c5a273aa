"""ingest's tables through asyncpg; SQL lives in sql/ beside this module."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from pulse_contracts.catalog import (
    ApiTokenRevoked,
    ApiTokenUpserted,
    OrganizationUpserted,
    PostRegistered,
    PostRemoved,
)
from pulse_runtime.db import Connection, SqlFiles

from .domain import SOURCE_CODES, Match, Rejection, TrackedPost

SCHEMA = "ingest"
sql = SqlFiles(Path(__file__).parent / "sql")


async def find_token_org(conn: Connection, *, token_sha256: bytes) -> UUID | None:
    org_id: UUID | None = await conn.fetchval(sql.find_token, token_sha256)
    if org_id is not None:
        await conn.execute(sql.touch_token, token_sha256)
    return org_id


async def load_posts(
    conn: Connection, *, org_id: UUID, ids: list[UUID], ppids: list[str], urls: list[str]
) -> list[TrackedPost]:
    rows = await conn.fetch(sql.load_posts, org_id, ids, ppids, urls)
    return [TrackedPost(**dict(row)) for row in rows]


async def insert_samples(
    conn: Connection, *, matches: Sequence[Match], source: str
) -> set[tuple[int, datetime]]:
    """Insert new samples; returns the (post_key, observed_at) actually stored (not duplicates)."""
    # One order for every batch, so concurrent batches never deadlock on the unique index.
    ordered = sorted(matches, key=lambda m: (m.post.key, m.candidate.observed_at))
    columns: list[list[Any]] = [[] for _ in range(10)]
    code = SOURCE_CODES[source]
    for m in ordered:
        c = m.candidate.metrics
        values = (
            m.post.key,
            m.candidate.observed_at,
            c.views,
            c.likes,
            c.comments,
            c.shares,
            c.saves,
            c.reach,
            code,
            m.candidate.estimated,
        )
        for column, value in zip(columns, values, strict=True):
            column.append(value)
    rows = await conn.fetch(sql.insert_samples, *columns)
    return {(row["post_key"], row["observed_at"]) for row in rows}


async def update_post_facts(
    conn: Connection, facts: Sequence[tuple[UUID, datetime | None, str | None, str | None]]
) -> list[asyncpg.Record]:
    if not facts:
        return []
    ids, posted, captions, thumbs = (list(col) for col in zip(*facts, strict=True))
    return list(await conn.fetch(sql.update_post_facts, ids, posted, captions, thumbs))


async def insert_rejections(
    conn: Connection, *, org_id: UUID | None, channel: str, rejections: Sequence[Rejection]
) -> None:
    if not rejections:
        return
    await conn.execute(
        sql.insert_rejections,
        org_id,
        channel,
        [r.index for r in rejections],
        [r.code for r in rejections],
        [r.message for r in rejections],
        [_as_json(r.raw) for r in rejections],
    )


def _as_json(raw: Any) -> Any:
    # Anything that arrived is kept; a body that was not JSON is kept as its text.
    try:
        json.dumps(raw)
    except (TypeError, ValueError):
        return {"unparsed": repr(raw)[:100_000]}
    return raw


async def upsert_organization(conn: Connection, org: OrganizationUpserted) -> None:
    await conn.execute(
        sql.upsert_organization, org.id, org.name, org.is_test, org.settings, org.updated_at
    )


async def upsert_token(conn: Connection, token: ApiTokenUpserted) -> None:
    await conn.execute(
        sql.upsert_token,
        token.id,
        token.org_id,
        token.name,
        bytes.fromhex(token.token_sha256),
        list(token.scopes),
        token.updated_at,
    )


async def revoke_token(conn: Connection, token: ApiTokenRevoked) -> None:
    await conn.execute(sql.revoke_token, token.id, token.org_id, token.revoked_at)


async def register_post(conn: Connection, org_id: UUID, post: PostRegistered) -> None:
    await conn.execute(
        sql.register_post,
        post.id,
        org_id,
        post.booking_id,
        post.campaign_id,
        post.platform,
        post.url,
        post.platform_post_id,
        post.registered_at,
    )


async def remove_post(conn: Connection, org_id: UUID, post: PostRemoved) -> None:
    await conn.execute(
        sql.remove_post, post.id, org_id, post.booking_id, post.campaign_id, post.removed_at
    )


async def sample_history(
    conn: Connection, *, org_id: UUID, post_id: UUID, after: datetime, limit: int
) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.sample_history, post_id, org_id, after, limit))


async def rejected_items(
    conn: Connection, *, org_id: UUID, before_id: int, limit: int
) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.rejected_items, org_id, before_id, limit))
