"""/campaigns (every campaign at a glance) and /campaigns/{id} (the hero screen, live)."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from typing import Annotated, Any, get_args
from uuid import UUID

from fastapi import Query, Request, Response

from pulse_contracts import utcnow
from pulse_contracts.internal.alerter import Alert, AlertPage
from pulse_contracts.numbers import timeline_pct
from pulse_contracts.values import CampaignStatus
from pulse_runtime.errors import ApiError, NotFound

from .. import numbers, peers
from ..db import decode_cursor, encode_cursor, org_read
from ..deps import ContextDep
from ..emv import booking_emv
from ..handlers.insights import campaign_hashtags
from ..numbers import booking_numbers, post_numbers, with_latest, with_pulls
from ..repository import bookings as bookings_repo
from ..repository import campaigns as campaigns_repo
from ..repository import clients as clients_repo
from ..repository import posts as posts_repo
from .alerts import alert_post_urls
from .common import ViewerDep, is_fragment_request, optional, page_router, pages, render

router = page_router()

STATUSES: tuple[str, ...] = get_args(CampaignStatus)
SEVERITY_RANK = {"info": 1, "warning": 2, "critical": 3}
LIST_LIMIT = 200  # campaigns a page, newest first; a link goes on to older ones
OPEN_ALERTS_LIMIT = "500"
BOOKINGS_LIMIT = 500
POSTS_LIMIT = 1000
NO_ALERTS = AlertPage(items=[], next_cursor=None)  # an alerter that is down shows none
TAGS_SHOWN = 8  # a compact table; GET /api/hashtags has the rest


def _uuid(raw: str | None) -> UUID | None:
    try:
        return UUID(raw) if raw else None
    except ValueError:
        return None


@router.get("/campaigns")
async def campaigns_page(
    request: Request,
    ctx: ContextDep,
    viewer: ViewerDep,
    status: Annotated[str | None, Query(max_length=20)] = None,
    client_id: Annotated[str | None, Query(max_length=64)] = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    cursor: Annotated[str, Query(max_length=200)] = "",
) -> Response:
    """Filters live in the URL; an htmx request gets the list alone, without the page. Newest
    first, LIST_LIMIT a page (`cursor`: where the page before ended)."""
    org_id = viewer.principal.org_id
    chosen_status = status if status in STATUSES else None
    chosen_client = _uuid(client_id)
    search = (q or "").strip() or None
    async with org_read(ctx.pool, org_id) as conn:
        rows = await campaigns_repo.list_campaigns(
            conn,
            org_id=org_id,
            status=chosen_status,
            client_id=chosen_client,
            q=search,
            after=decode_cursor(cursor),
            limit=LIST_LIMIT + 1,  # one more tells whether an older page exists
        )
        more = len(rows) > LIST_LIMIT
        rows = rows[:LIST_LIMIT]
        clients = await clients_repo.list_clients(conn, org_id=org_id, after=None, limit=500)
    notices: list[str] = []
    summaries, open_alerts = await asyncio.gather(
        optional(numbers.campaign_summaries(ctx, org_id, [r["id"] for r in rows]), {}, notices),
        optional(
            peers.alerts(ctx, org_id, {"status": "open", "limit": OPEN_ALERTS_LIMIT}),
            NO_ALERTS,
            notices,
        ),
    )
    alerts_by_campaign: dict[str, list[Alert]] = defaultdict(list)
    for alert in open_alerts.items:
        if alert.campaign_id:
            alerts_by_campaign[str(alert.campaign_id)].append(alert)
    now = utcnow()
    campaigns = []
    for row in rows:
        kpis = summaries.get(row["id"])
        alerts = alerts_by_campaign.get(str(row["id"]), [])
        campaigns.append(
            {
                **row,
                "kpis": kpis,
                # Before the first computation the shared rule gives the timeline all the same.
                "timeline_pct": (kpis or {}).get("timeline_pct")
                if kpis
                else timeline_pct(row["start_date"], row["end_date"], now),
                "open_alerts": len(alerts),
                "worst_severity": max(
                    (a.severity for a in alerts), key=SEVERITY_RANK.__getitem__, default=None
                ),
            }
        )
    filters = {
        "status": chosen_status or "",
        "client_id": str(chosen_client) if chosen_client else "",
        "q": search or "",
    }
    last = rows[-1] if rows else None
    older = encode_cursor(last["created_at"], last["id"]) if more and last else None
    context: dict[str, Any] = {
        "campaigns": campaigns,
        "clients": clients,
        "statuses": STATUSES,
        "filters": filters,
        "filtered": bool(chosen_status or chosen_client or search),
        "notices": notices,
        **pages("/campaigns", filters, cursor, older),
    }
    if is_fragment_request(request) and request.headers.get("hx-target") == "campaign-list":
        return render(request, "campaigns_list.html", headers={"Vary": "HX-Request"}, **context)
    return render(request, "campaigns.html", headers={"Vary": "HX-Request"}, **context)


async def _campaign_view(
    ctx: ContextDep,
    viewer: ViewerDep,
    campaign_id: UUID,
    *,
    with_alerts: bool = True,
    with_tags: bool = True,
) -> dict[str, Any]:
    """Everything the hero screen shows: the catalog, the read model's numbers, ingest's pull
    status, (`with_alerts`) the alerter's open alerts and (`with_tags`) the aggregator's top
    hashtags; never samples."""
    org_id = viewer.principal.org_id

    async def catalog() -> tuple[dict[str, Any] | None, list[dict[str, Any]], list[dict[str, Any]]]:
        # Read-only and unlocked: every open campaign page refetches this on each kpi.updated,
        # and a lock (get_campaign's) queued the viewers behind each other and behind an edit.
        async with org_read(ctx.pool, org_id) as conn:
            campaign = await campaigns_repo.read_campaign(
                conn, org_id=org_id, campaign_id=campaign_id
            )
            if campaign is None:
                return None, [], []
            bookings = await bookings_repo.list_bookings(
                conn, org_id=org_id, campaign_id=campaign_id, after=None, limit=BOOKINGS_LIMIT
            )
            posts = await posts_repo.posts_of_campaign(
                conn, org_id=org_id, campaign_id=campaign_id, after=None, limit=POSTS_LIMIT
            )
        return campaign, bookings, posts

    notices: list[str] = []
    # The catalog, the numbers and the other services' answers are asked at once: each is a
    # round trip of its own, and the peers answer within the caller's organization only, so
    # asking before the catalog has said the campaign is the caller's shows nothing of another's.
    (campaign, bookings, posts), (doc, version), pulls, alerts, tags = await asyncio.gather(
        catalog(),
        optional(numbers.versioned_numbers(ctx, org_id, campaign_id), (None, 0), notices),
        optional(peers.pull_status(ctx, org_id, campaign_id), {}, notices),
        optional(
            peers.alerts(
                ctx,
                org_id,
                {"status": "open", "campaign_id": str(campaign_id), "limit": OPEN_ALERTS_LIMIT},
            ),
            NO_ALERTS,
            notices,
        )
        if with_alerts
        else _no_alerts(),
        optional(campaign_hashtags(ctx, org_id, campaign_id, limit=TAGS_SHOWN), None, notices)
        if with_tags
        else _no_tags(),
    )
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    by_post = post_numbers(doc)
    tracked = [with_pulls(with_latest(p, by_post), pulls) for p in reversed(posts)]
    posts_of: dict[UUID, list[dict[str, Any]]] = defaultdict(list)
    for post in tracked:
        posts_of[post["booking_id"]].append(post)
    by_booking = booking_numbers(doc)
    emv_of_booking = booking_emv(doc)
    grid = []
    for booking in sorted(bookings, key=lambda b: (b["influencer_name"] or "").lower()):
        mine = posts_of.get(booking["id"], [])
        grid.append(
            {
                **booking,
                "kpis": by_booking.get(str(booking["id"])),
                "emv": emv_of_booking.get(str(booking["id"])),
                "posts": mine,
                "estimated": any((p.get("latest") or {}).get("estimated") for p in mine),
                "failing": [p for p in mine if p.get("pull_status") == "failing"],
            }
        )
    kpis = doc["campaign"] if doc else None
    daily = doc["daily"] if doc else []
    timeline = (
        kpis["timeline_pct"]
        if kpis
        else timeline_pct(campaign["start_date"], campaign["end_date"], utcnow())
    )
    return {
        "campaign": campaign,
        "kpis": kpis,
        "timeline_pct": timeline,
        "bookings": grid,
        "platforms": doc["platforms"] if doc else [],
        "chart": {
            "dates": [d["date"] for d in daily],
            "views_cum": [d["views_cum"] for d in daily],
            "engagement_cum": [d["engagement_cum"] for d in daily],
            "views_delta": [d["views_delta"] for d in daily],
            "engagement_delta": [d["engagement_delta"] for d in daily],
            "projection": projection_of(kpis),
        },
        "forecast": (kpis or {}).get("forecast"),
        "emv": (doc or {}).get("emv"),  # an estimate, at the organization's current rates
        "as_of": doc["as_of"] if doc else None,
        "version": version,  # of the numbers shown: a live event not newer is not fetched
        "alerts": alerts.items,
        "post_urls": alert_post_urls(alerts.items, posts),
        "notices": notices,
        "estimated": any(b["estimated"] for b in grid),
        "tags": tags,
    }


def projection_of(figures: dict[str, Any] | None) -> dict[str, list[Any]]:
    """The forecast's path (views to date, today to the end date) for the growth chart."""
    path = ((figures or {}).get("forecast") or {}).get("path") or []
    return {"dates": [p["date"] for p in path], "views_cum": [p["views_cum"] for p in path]}


async def _no_alerts() -> AlertPage:
    return NO_ALERTS


async def _no_tags() -> dict[str, Any] | None:
    return None


@router.get("/campaigns/{campaign_id}")
async def campaign_page(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    view = await _campaign_view(ctx, viewer, campaign_id)
    return render(request, "campaign.html", **view)


@router.get("/campaigns/{campaign_id}/fragments/numbers")
async def campaign_numbers_fragment(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    """KPI cards, chart, platform split and influencer grid: what a kpi.updated refreshes.
    Neither the alerter nor the aggregator is asked (the alerts panel and the hashtag tables
    have fragments of their own), so the numbers never wait on them: the aggregator is at its
    busiest exactly when kpi.updated flows, and its answer made half of this fragment's time
    under load (bench P2-page)."""
    view = await _campaign_view(ctx, viewer, campaign_id, with_alerts=False, with_tags=False)
    return render(request, "campaign_numbers.html", **view)


@router.get("/campaigns/{campaign_id}/fragments/tags")
async def campaign_tags_fragment(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    """The top hashtags and mentions: refreshed beside the numbers on a kpi.updated (the
    recompute that publishes the numbers rolls the tags up), in a request of its own."""
    org_id = viewer.principal.org_id
    async with org_read(ctx.pool, org_id) as conn:
        campaign = await campaigns_repo.read_campaign(conn, org_id=org_id, campaign_id=campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    notices: list[str] = []
    tags = await optional(
        campaign_hashtags(ctx, org_id, campaign_id, limit=TAGS_SHOWN), None, notices
    )
    return render(request, "campaign_tags.html", campaign=campaign, tags=tags)


@router.get("/campaigns/{campaign_id}/fragments/alerts")
async def campaign_alerts_fragment(
    request: Request, ctx: ContextDep, viewer: ViewerDep, campaign_id: UUID
) -> Response:
    """The open alerts panel: what an alert.raised or alert.resolved refreshes. The alerter
    answers within the caller's organization only, so it is asked before the catalog."""
    org_id = viewer.principal.org_id
    alerts = await peers.alerts(
        ctx,
        org_id,
        {"status": "open", "campaign_id": str(campaign_id), "limit": OPEN_ALERTS_LIMIT},
    )
    booking_ids = list({a.booking_id for a in alerts.items if a.post_id and a.booking_id})
    async with org_read(ctx.pool, org_id) as conn:
        campaign = await campaigns_repo.read_campaign(conn, org_id=org_id, campaign_id=campaign_id)
        posts = (
            await posts_repo.posts_of_bookings(conn, org_id=org_id, booking_ids=booking_ids)
            if booking_ids
            else []
        )
    if campaign is None:
        raise ApiError(404, f"no campaign {campaign_id}")
    return render(
        request,
        "campaign_alerts.html",
        campaign=campaign,
        alerts=alerts.items,
        post_urls=alert_post_urls(alerts.items, posts),
    )
