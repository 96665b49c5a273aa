"""ingest's copies of the catalog: organizations, tokens, campaigns, tracked posts."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from pulse_contracts.catalog import (
    ApiTokenRevoked,
    ApiTokenUpserted,
    CampaignDeleted,
    CampaignUpserted,
    OrganizationUpserted,
    PostRegistered,
    PostRemoved,
)
from pulse_runtime.db import Connection

from .statements import sql


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


async def register_post(
    conn: Connection, org_id: UUID, post: PostRegistered
) -> asyncpg.Record | None:
    """The post's (removed, deleted) flags when this registration was applied, else None."""
    return await conn.fetchrow(
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


async def upsert_campaign(conn: Connection, org_id: UUID, campaign: CampaignUpserted) -> None:
    await conn.execute(
        sql.upsert_campaign,
        campaign.id,
        org_id,
        campaign.status,
        campaign.end_date,
        campaign.updated_at,
    )


async def delete_campaign(conn: Connection, org_id: UUID, campaign: CampaignDeleted) -> None:
    await conn.execute(sql.delete_campaign, campaign.id, org_id, campaign.deleted_at)


async def org_is_test(conn: Connection, org_id: UUID) -> bool:
    return bool(await conn.fetchval(sql.org_is_test, org_id))
