"""What the exports read: one campaign with its creators' names, and the whole catalog of an
organization. No statement here selects a password hash or a token hash."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pulse_runtime.db import Connection

from . import sql


async def campaign(conn: Connection, *, org_id: UUID, campaign_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(sql.exports_campaign, org_id, campaign_id)
    return dict(row) if row else None


async def creator_names(conn: Connection, *, org_id: UUID, campaign_id: UUID) -> dict[UUID, str]:
    """The display name of every creator booked on the campaign, by influencer id."""
    rows = await conn.fetch(sql.exports_creator_names, org_id, campaign_id)
    return {r["id"]: r["display_name"] for r in rows}


async def catalog_state(conn: Connection, org_id: UUID) -> dict[str, Any] | None:
    """The organization and every live client, campaign, influencer (with its handles),
    booking and post; None when there is no such organization."""
    organization = await conn.fetchrow(sql.exports_organization, org_id)
    if organization is None:
        return None
    handles: dict[UUID, list[dict[str, Any]]] = {}
    for row in await conn.fetch(sql.exports_handles, org_id):
        handle = dict(row)
        handles.setdefault(handle.pop("influencer_id"), []).append(handle)
    influencers = [
        {**dict(r), "handles": handles.get(r["id"], [])}
        for r in await conn.fetch(sql.exports_influencers, org_id)
    ]
    return {
        "organization": dict(organization),
        "clients": [dict(r) for r in await conn.fetch(sql.exports_clients, org_id)],
        "campaigns": [dict(r) for r in await conn.fetch(sql.exports_campaigns, org_id)],
        "influencers": influencers,
        "bookings": [dict(r) for r in await conn.fetch(sql.exports_bookings, org_id)],
        "posts": [dict(r) for r in await conn.fetch(sql.exports_posts, org_id)],
    }
