"""aggregator's hashtag and mention tables through asyncpg (SQL in sql/ beside this module)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from pulse_contracts.numbers import engagement_rate
from pulse_runtime.db import Connection

from .repository import sql
from .tags import CaptionTags, TagKind, TagRow, caption_tags


async def save_post_tags(conn: Connection, tags: Sequence[tuple[UUID, CaptionTags]]) -> None:
    if not tags:
        return
    ordered = sorted(tags, key=lambda t: t[0])  # the lock order of update_post_facts
    await conn.execute(
        sql.save_post_tags,
        [post_id for post_id, _ in ordered],
        [" ".join(t.hashtags) for _, t in ordered],
        [" ".join(t.mentions) for _, t in ordered],
    )


async def load_post_tags(conn: Connection, campaign_id: UUID) -> dict[UUID, CaptionTags]:
    """The tags of the campaign's posts with a caption; a caption stored before tags were read
    is read now, and its tags stored, so each caption is read once."""
    found: dict[UUID, CaptionTags] = {}
    unread: list[tuple[UUID, CaptionTags]] = []
    for r in await conn.fetch(sql.load_post_tags, campaign_id):
        if r["hashtags"] is None:
            tags = caption_tags(r["caption"])
            unread.append((r["id"], tags))
        else:
            tags = CaptionTags(tuple(r["hashtags"]), tuple(r["mentions"] or ()))
        found[r["id"]] = tags
    await save_post_tags(conn, unread)
    return found


async def save_campaign_tags(
    conn: Connection, campaign_id: UUID, org_id: UUID, rows: Sequence[TagRow]
) -> None:
    await conn.execute(
        sql.save_campaign_tags,
        campaign_id,
        org_id,
        [r.kind for r in rows],
        [r.tag for r in rows],
        [r.day for r in rows],
        [r.posts for r in rows],
        [r.views for r in rows],
        [r.engagement for r in rows],
    )


async def top_tags(
    conn: Connection,
    *,
    org_id: UUID,
    campaign_id: UUID,
    kind: TagKind,
    first_day: date | None,
    last_day: date | None,
    limit: int,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(sql.top_tags, campaign_id, org_id, kind, first_day, last_day, limit)
    return [
        {**dict(r), "engagement_rate": engagement_rate(r["engagement"], r["views"])} for r in rows
    ]
