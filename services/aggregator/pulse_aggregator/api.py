"""aggregator's internal read routes: numbers for the gateway and share service."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from pulse_contracts import utcnow
from pulse_contracts.compare import CompareResult, compare_campaigns
from pulse_contracts.internal.aggregator import (
    BookingPage,
    CampaignSummaries,
    DailySeries,
    PlatformList,
    PostPage,
    TagCount,
    TopTags,
)
from pulse_contracts.numbers import CampaignFigures, CampaignNumbers, extend_to
from pulse_runtime.db import PoolGetter
from pulse_runtime.errors import ApiError
from pulse_runtime.http import internal_router

from . import repository, tags_repository
from .domain import influencer_series


def internal_reads(pool: PoolGetter, service_token: str) -> APIRouter:
    router = internal_router(service_token, prefix="/internal/orgs/{org_id}", tags=["internal"])

    async def numbers(org_id: UUID, campaign_id: UUID, *, forward: bool = True) -> CampaignNumbers:
        async with pool().acquire() as conn:
            doc = await repository.get_numbers(conn, org_id=org_id, campaign_id=campaign_id)
        if doc is None:
            raise ApiError(404, f"no numbers for campaign {campaign_id}")
        return extend_to(doc, utcnow()) if forward else doc

    @router.get("/campaigns/{campaign_id}/numbers")
    async def campaign_numbers(
        org_id: UUID, campaign_id: UUID, as_computed: bool = False
    ) -> CampaignNumbers:
        """The whole number document, brought forward to now (timeline, series tail); with
        `as_computed`, as last computed, its `as_of` the computation's time. A copy that keeps
        the newest document (the gateway's read model) asks for that: brought forward, `as_of`
        is the time of the read, which would beat a kpi.updated computed just before it with
        samples this read did not see yet."""
        return await numbers(org_id, campaign_id, forward=not as_computed)

    @router.get("/campaigns/{campaign_id}/kpis")
    async def campaign_kpis(org_id: UUID, campaign_id: UUID) -> CampaignFigures:
        return (await numbers(org_id, campaign_id)).campaign

    @router.get("/campaigns/{campaign_id}/bookings")
    async def bookings(org_id: UUID, campaign_id: UUID) -> BookingPage:
        return BookingPage(items=(await numbers(org_id, campaign_id)).bookings)

    @router.get("/campaigns/{campaign_id}/posts")
    async def posts(org_id: UUID, campaign_id: UUID) -> PostPage:
        return PostPage(items=(await numbers(org_id, campaign_id)).posts)

    @router.get("/campaigns/{campaign_id}/platforms")
    async def platforms(org_id: UUID, campaign_id: UUID) -> PlatformList:
        return PlatformList(items=(await numbers(org_id, campaign_id)).platforms)

    @router.get("/campaigns/{campaign_id}/daily")
    async def daily(
        org_id: UUID, campaign_id: UUID, influencer_id: UUID | None = None
    ) -> DailySeries:
        """The daily series; with `influencer_id`, over that creator's posts only."""
        doc = await numbers(org_id, campaign_id)
        if influencer_id is None:
            return DailySeries(items=doc.daily)
        async with pool().acquire() as conn:
            inputs = await repository.load_inputs(conn, campaign_id, influencer_id=influencer_id)
        if inputs.campaign is None:
            return DailySeries(items=[])
        series = influencer_series(
            campaign=inputs.campaign,
            influencer_id=influencer_id,
            bookings=inputs.bookings,
            posts=inputs.posts,
            closes=inputs.closes,
            now=utcnow(),
        )
        return DailySeries(items=series)

    @router.get("/campaigns/{campaign_id}/hashtags")
    async def hashtags(
        org_id: UUID,
        campaign_id: UUID,
        first_day: Annotated[date | None, Query(alias="from")] = None,
        last_day: Annotated[date | None, Query(alias="to")] = None,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> TopTags:
        """The campaign's top hashtags and mentions from its rollup (docs/insights.md)."""
        async with pool().acquire() as conn:
            found = {
                kind: await tags_repository.top_tags(
                    conn,
                    org_id=org_id,
                    campaign_id=campaign_id,
                    kind=kind,
                    first_day=first_day,
                    last_day=last_day,
                    limit=limit,
                )
                for kind in ("hashtag", "mention")
            }
        return TopTags(
            hashtags=[TagCount.model_validate(t) for t in found["hashtag"]],
            mentions=[TagCount.model_validate(t) for t in found["mention"]],
        )

    @router.get("/campaigns")
    async def campaign_summaries(
        org_id: UUID, ids: Annotated[str, Query(max_length=20_000)]
    ) -> CampaignSummaries:
        """Campaign KPI summaries for the given comma-separated ids (missing ones are omitted)."""
        wanted = _ids(ids)
        async with pool().acquire() as conn:
            docs = await repository.list_numbers(conn, org_id=org_id, campaign_ids=wanted)
        now = utcnow()
        return CampaignSummaries(items=[extend_to(d, now).campaign for d in docs])

    @router.get("/compare")
    async def compare(org_id: UUID, ids: str) -> CompareResult:
        wanted = _ids(ids)
        if not 2 <= len(wanted) <= 3:
            raise ApiError(422, "compare takes 2 or 3 campaign ids", details=[{"path": "ids"}])
        docs = [await numbers(org_id, campaign_id) for campaign_id in wanted]
        return compare_campaigns(docs)

    return router


def _ids(raw: str) -> list[UUID]:
    try:
        return [UUID(part) for part in raw.split(",") if part.strip()]
    except ValueError as exc:
        raise ApiError(422, f"ids must be comma-separated UUIDs: {exc}") from exc
