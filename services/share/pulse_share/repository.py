"""share's tables through asyncpg; SQL lives in sql/ beside this module."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

from pydantic_core import to_json

from pulse_contracts.forecast import DeliveryForecast
from pulse_contracts.numbers import ClientKpis, DailyPoint, PlatformSplit
from pulse_runtime.db import Connection, SqlFiles

from .domain import (
    BookingRef,
    CampaignRef,
    ClientRef,
    InfluencerRef,
    ShareCampaign,
    ShareClient,
    ShareInfluencer,
    ShareNumbers,
    SharePayload,
    ShareRefs,
)

SCHEMA = "share"
sql = SqlFiles(Path(__file__).parent / "sql")


# --- reference copies -------------------------------------------------------------------------


async def upsert_client(
    conn: Connection, org_id: UUID, ref: ClientRef, updated_at: datetime
) -> list[UUID]:
    """Keeps the newer copy; returns the campaigns whose projection shows this client (none
    when the copy held was already as new)."""
    changed = await conn.fetchval(
        sql.upsert_client, ref.id, org_id, ref.name, ref.brand_color, ref.logo_url, updated_at
    )
    if not changed:
        return []
    return [r["id"] for r in await conn.fetch(sql.campaigns_of_client, ref.id, org_id)]


async def upsert_campaign(
    conn: Connection, org_id: UUID, ref: CampaignRef, updated_at: datetime
) -> bool:
    changed = await conn.fetchval(
        sql.upsert_campaign,
        ref.id,
        org_id,
        ref.client_id,
        ref.name,
        ref.status,
        ref.start_date,
        ref.end_date,
        updated_at,
    )
    return bool(changed)


async def delete_campaign(
    conn: Connection, org_id: UUID, campaign_id: UUID, deleted_at: datetime
) -> None:
    """A tombstone, and the numbers and projection forgotten: its links answer 404 from now."""
    await conn.execute(sql.delete_campaign, campaign_id, org_id, deleted_at)
    await conn.execute(sql.forget_campaign, campaign_id, org_id)


async def is_campaign_deleted(conn: Connection, campaign_id: UUID) -> bool:
    return bool(await conn.fetchval(sql.is_campaign_deleted, campaign_id))


async def upsert_influencer(
    conn: Connection, org_id: UUID, ref: InfluencerRef, updated_at: datetime
) -> list[UUID]:
    """Keeps the newer copy; returns the campaigns this creator is booked on when it changed."""
    changed = await conn.fetchval(
        sql.upsert_influencer,
        ref.id,
        org_id,
        ref.display_name,
        ref.avatar_url,
        ref.tier,
        list(ref.platforms),
        updated_at,
    )
    if not changed:
        return []
    return [r["id"] for r in await conn.fetch(sql.campaigns_of_influencer, ref.id, org_id)]


async def upsert_booking(
    conn: Connection, org_id: UUID, ref: BookingRef, updated_at: datetime
) -> list[UUID]:
    """Keeps the newer copy; returns the campaigns affected (both, when the booking moved)."""
    row = await conn.fetchrow(
        sql.upsert_booking, ref.id, org_id, ref.campaign_id, ref.influencer_id, updated_at
    )
    if row is None:
        return []
    return sorted({ref.campaign_id} | ({row["previous"]} if row["previous"] else set()))


async def delete_booking(
    conn: Connection, org_id: UUID, booking_id: UUID, campaign_id: UUID, deleted_at: datetime
) -> list[UUID]:
    held = await conn.fetchval(sql.delete_booking, booking_id, org_id, campaign_id, deleted_at)
    return sorted({campaign_id} | ({held} if held else set()))


# --- numbers and the projection ---------------------------------------------------------------


async def save_numbers(
    conn: Connection, org_id: UUID, campaign_id: UUID, numbers: ShareNumbers
) -> bool:
    """Newer wins on as_of; True when this document replaced the one held."""
    changed = await conn.fetchval(
        sql.save_numbers, campaign_id, org_id, numbers.as_of, numbers.model_dump_json()
    )
    return bool(changed)


async def lock_campaign(conn: Connection, campaign_id: UUID) -> None:
    """Transaction-scoped: one rebuild of a campaign at a time, so two events changing different
    inputs of one projection never both build it from a stale copy of the other's input."""
    await conn.execute(sql.lock_campaign, str(campaign_id))


@dataclass(frozen=True)
class ProjectionInputs:
    refs: ShareRefs
    numbers: ShareNumbers | None


async def load_inputs(
    conn: Connection, org_id: UUID, campaign_id: UUID, *, numbers: ShareNumbers | None = None
) -> ProjectionInputs:
    """The projection's inputs; `numbers` are the ones this transaction just saved, when a
    kpi.updated is what changed (reading them back would parse what is in hand)."""
    row = await conn.fetchrow(sql.load_campaign_ref, campaign_id, org_id)
    campaign = CampaignRef(**dict(row)) if row else None
    if numbers is None:
        document = await conn.fetchval(sql.load_numbers, campaign_id, org_id)
        numbers = ShareNumbers.model_validate(document) if document is not None else None

    client_id = (campaign.client_id if campaign else None) or (
        numbers.client_id if numbers else None
    )
    client = None
    if client_id is not None and (c := await conn.fetchrow(sql.load_client, client_id, org_id)):
        client = ClientRef(**dict(c))

    booking_ids = sorted({b.booking_id for b in numbers.bookings} if numbers else set())
    booking_ids += sorted({p.booking_id for p in numbers.posts} if numbers else set())
    bookings = {
        r["id"]: BookingRef(**dict(r))
        for r in await conn.fetch(sql.load_bookings, campaign_id, org_id, booking_ids)
    }
    influencer_ids = {b.influencer_id for b in bookings.values() if b.influencer_id}
    if numbers:
        influencer_ids |= {b.influencer_id for b in numbers.bookings if b.influencer_id}
        influencer_ids |= {p.influencer_id for p in numbers.posts if p.influencer_id}
    influencers = {
        r["id"]: InfluencerRef(
            id=r["id"],
            display_name=r["display_name"],
            avatar_url=r["avatar_url"],
            tier=r["tier"],
            platforms=tuple(r["platforms"]),
        )
        for r in await conn.fetch(sql.load_influencers, org_id, sorted(influencer_ids))
    }
    refs = ShareRefs(campaign=campaign, client=client, influencers=influencers, bookings=bookings)
    return ProjectionInputs(refs=refs, numbers=numbers)


async def save_projection(
    conn: Connection,
    org_id: UUID,
    campaign_id: UUID,
    payload: SharePayload,
    numbers_as_of: datetime | None,
    forecast: DeliveryForecast | None = None,
) -> None:
    c, k, client = payload.campaign, payload.kpis, payload.client
    await conn.execute(
        sql.save_projection,
        campaign_id,
        org_id,
        c.name,
        c.status,
        c.start_date,
        c.end_date,
        client.name if client else None,
        client.brand_color if client else None,
        client.logo_url if client else None,
        k.committed_views,
        k.committed_engagement,
        k.committed_posts,
        k.actual_views,
        k.actual_engagement,
        k.actual_posts,
        k.views_pct,
        k.engagement_pct,
        k.posts_pct,
        k.kpi_pct,
        k.engagement_rate,
        k.timeline_pct,
        to_json(payload.daily).decode(),
        to_json(payload.platforms).decode(),
        to_json(payload.influencers).decode(),
        numbers_as_of,
        payload.generated_at,
        forecast.model_dump_json() if forecast else None,
    )


async def forget_projection(conn: Connection, org_id: UUID, campaign_id: UUID) -> None:
    await conn.execute(sql.forget_campaign, campaign_id, org_id)


@dataclass(frozen=True)
class StoredProjection:
    payload: SharePayload
    numbers_as_of: datetime | None
    # The delivery forecast, kept beside the payload (the allow-list) and handed only to links
    # that opted in (handlers.open_link).
    forecast: DeliveryForecast | None = None


async def get_projection(
    conn: Connection, *, org_id: UUID, campaign_id: UUID
) -> StoredProjection | None:
    r = await conn.fetchrow(sql.get_projection, campaign_id, org_id)
    if r is None:
        return None
    client = (
        ShareClient(
            name=r["client_name"],
            brand_color=r["client_brand_color"],
            logo_url=r["client_logo_url"],
        )
        if r["client_name"] is not None
        else None
    )
    payload = SharePayload(
        campaign=ShareCampaign(
            name=r["name"], status=r["status"], start_date=r["start_date"], end_date=r["end_date"]
        ),
        client=client,
        kpis=ClientKpis(**{name: r[name] for name in ClientKpis.model_fields}),
        daily=[DailyPoint.model_validate(d) for d in r["daily"]],
        platforms=[PlatformSplit.model_validate(p) for p in r["platforms"]],
        influencers=[ShareInfluencer.model_validate(i) for i in r["influencers"]],
        generated_at=r["generated_at"],
    )
    forecast = DeliveryForecast.model_validate(r["forecast"]) if r["forecast"] else None
    return StoredProjection(payload=payload, numbers_as_of=r["numbers_as_of"], forecast=forecast)


# --- links ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkRecord:
    """A link as the public routes see it."""

    id: UUID
    org_id: UUID
    campaign_id: UUID
    expires_at: datetime | None
    revoked_at: datetime | None
    password_hash: str | None
    campaign_deleted: bool
    projection_version: datetime | None  # generated_at of the campaign's current projection
    show_forecast: bool = False  # the link opted in to the delivery forecast
    show_emv: bool = False  # the link opted in to earned media value
    # The organization's EMV rate overrides, read only for a link that opted in.
    emv_rates: dict[str, Any] | None = None


async def insert_link(
    conn: Connection,
    *,
    link_id: UUID,
    org_id: UUID,
    campaign_id: UUID,
    token_sha256: bytes,
    created_by: UUID | None,
    expires_at: datetime | None,
    password_hash: str | None,
    show_forecast: bool = False,
    show_emv: bool = False,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        sql.insert_link,
        link_id,
        org_id,
        campaign_id,
        token_sha256,
        created_by,
        expires_at,
        password_hash,
        show_forecast,
        show_emv,
    )
    assert row is not None
    return dict(row)


async def find_links(conn: Connection, token_sha256s: Sequence[bytes]) -> dict[bytes, LinkRecord]:
    """The links of these token hashes (unknown ones are absent), in one statement."""
    found = {}
    for row in await conn.fetch(sql.find_links, list(token_sha256s)):
        fields = dict(row)
        digest = bytes(fields.pop("token_sha256"))
        found[digest] = LinkRecord(**fields)
    return found


async def find_link(conn: Connection, token_sha256: bytes) -> LinkRecord | None:
    return (await find_links(conn, [token_sha256])).get(token_sha256)


async def list_links(
    conn: Connection, *, org_id: UUID, campaign_id: UUID, limit: int
) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(sql.list_links, org_id, campaign_id, limit)]


async def revoke_link(
    conn: Connection, *, org_id: UUID, link_id: UUID, now: datetime
) -> dict[str, Any] | None:
    row = await conn.fetchrow(sql.revoke_link, link_id, org_id, now)
    return dict(row) if row else None


@dataclass(frozen=True)
class Access:
    """One answer of the public surface as the access log keeps it."""

    link_id: UUID
    at: datetime
    address: str
    user_agent: str
    surface: str
    outcome: str
    # A view of the report counts (view_count, last_viewed_at); a locked answer is only logged.
    counted: bool


async def record_accesses(conn: Connection, accesses: Sequence[Access]) -> None:
    """The accesses' log rows and the views' counts, in one statement: all or nothing."""
    await conn.execute(
        sql.record_accesses,
        [a.link_id for a in accesses],
        [a.at for a in accesses],
        [a.address for a in accesses],
        [a.user_agent for a in accesses],
        [a.surface for a in accesses],
        [a.outcome for a in accesses],
        [a.counted for a in accesses],
    )


async def upsert_emv_rates(
    conn: Connection, org_id: UUID, rates: dict[str, Any], updated_at: datetime
) -> None:
    """The organization's EMV rate overrides, unless newer ones are held."""
    await conn.execute(sql.upsert_emv_rates, org_id, rates, updated_at)
