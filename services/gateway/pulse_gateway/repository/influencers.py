"""Influencers (creators) of the agency and their social handles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pulse_runtime.db import Connection

from . import in_order, sql


def like_pattern(text: str | None) -> str | None:
    """`%text%` for ILIKE, with the wildcards of the text itself escaped."""
    if not text:
        return None
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


async def list_influencers(
    conn: Connection,
    *,
    org_id: UUID,
    q: str | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    at, last = after or (None, None)
    rows = [
        dict(r)
        for r in await conn.fetch(sql.influencers_list, org_id, like_pattern(q), at, last, limit)
    ]
    return await with_handles(conn, org_id=org_id, rows=rows)


async def with_handles(
    conn: Connection, *, org_id: UUID, rows: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """`rows` of influencers, each with its handles (one query for them all)."""
    handles = await handles_of(conn, org_id=org_id, influencer_ids=[r["id"] for r in rows])
    for row in rows:
        row["handles"] = handles.get(row["id"], [])
    return rows


async def roster(
    conn: Connection,
    *,
    org_id: UUID,
    limit: int,
    q: str | None = None,
    tier: str | None = None,
    platform: str | None = None,
    min_followers: int = 0,
    after: UUID | None = None,
) -> list[dict[str, Any]]:
    """The creators matching the search and filters (each optional), A to Z, from after the
    creator `after`, at most `limit`; without their handles (`with_handles` adds them)."""
    return [
        dict(r)
        for r in await conn.fetch(
            sql.influencers_roster,
            org_id,
            like_pattern(q),
            tier or None,
            platform or None,
            min_followers,
            after,
            limit,
        )
    ]


async def tiers(conn: Connection, *, org_id: UUID) -> list[str]:
    return [r["tier"] for r in await conn.fetch(sql.influencers_tiers, org_id)]


async def get_influencer(
    conn: Connection, *, org_id: UUID, influencer_id: UUID
) -> dict[str, Any] | None:
    """The influencer with its handles, locked for the rest of the transaction."""
    return await _with_handles(conn, sql.influencers_get, org_id, influencer_id)


async def read_influencer(
    conn: Connection, *, org_id: UUID, influencer_id: UUID
) -> dict[str, Any] | None:
    """The influencer with its handles as a read shows them, unlocked (get_influencer locks)."""
    return await _with_handles(conn, sql.influencers_read, org_id, influencer_id)


async def _with_handles(
    conn: Connection, statement: str, org_id: UUID, influencer_id: UUID
) -> dict[str, Any] | None:
    found = await conn.fetchrow(statement, org_id, influencer_id)
    if found is None:
        return None
    row = dict(found)
    handles = await handles_of(conn, org_id=org_id, influencer_ids=[influencer_id])
    row["handles"] = handles.get(influencer_id, [])
    return row


async def handles_of(
    conn: Connection, *, org_id: UUID, influencer_ids: Sequence[UUID]
) -> dict[UUID, list[dict[str, Any]]]:
    if not influencer_ids:
        return {}
    found: dict[UUID, list[dict[str, Any]]] = {}
    for r in await conn.fetch(sql.influencers_handles, org_id, list(influencer_ids)):
        found.setdefault(r["influencer_id"], []).append(
            {"platform": r["platform"], "handle": r["handle"], "followers": r["followers"]}
        )
    return found


# What an influencer's insert and update set, in the order both files number them ($3 onwards);
# the handles are rows of their own.
COLUMNS = ("display_name", "avatar_url", "tier", "notes")


async def insert_influencer(
    conn: Connection, *, org_id: UUID, influencer_id: UUID, values: Mapping[str, Any]
) -> dict[str, Any]:
    row = await conn.fetchrow(
        sql.influencers_insert, org_id, influencer_id, *in_order(values, COLUMNS)
    )
    assert row is not None
    handles = await _insert_handles(conn, org_id, influencer_id, values["handles"])
    return {**dict(row), "handles": handles}


async def update_influencer(
    conn: Connection, *, org_id: UUID, influencer_id: UUID, values: Mapping[str, Any]
) -> dict[str, Any]:
    """Update the influencer and replace its handles with `values["handles"]`."""
    row = await conn.fetchrow(
        sql.influencers_update, org_id, influencer_id, *in_order(values, COLUMNS)
    )
    assert row is not None
    await conn.execute(sql.influencers_handles_delete, org_id, influencer_id)
    handles = await _insert_handles(conn, org_id, influencer_id, values["handles"])
    return {**dict(row), "handles": handles}


async def _insert_handles(
    conn: Connection, org_id: UUID, influencer_id: UUID, handles: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    if not handles:
        return []
    rows = await conn.fetch(
        sql.influencers_handles_insert,
        org_id,
        influencer_id,
        [h["platform"] for h in handles],
        [h["handle"] for h in handles],
        [h.get("followers") for h in handles],
    )
    return sorted((dict(r) for r in rows), key=lambda h: (h["platform"], h["handle"]))


async def delete_influencer(conn: Connection, *, org_id: UUID, influencer_id: UUID) -> None:
    await conn.execute(sql.influencers_delete, org_id, influencer_id)


async def influencer_in_use(conn: Connection, *, org_id: UUID, influencer_id: UUID) -> bool:
    """Whether a live booking (of a live campaign) still names the influencer."""
    return bool(await conn.fetchval(sql.influencers_in_use, org_id, influencer_id))
