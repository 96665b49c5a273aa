"""/influencers (every creator, searchable) and /influencers/{id} (the per-creator deep dive)."""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Request, Response

from pulse_contracts.internal.ingest import PostSample, SamplePage
from pulse_runtime.errors import ApiError

from .. import numbers, peers
from ..db import org_read
from ..deps import ContextDep
from ..emv import booking_emv
from ..numbers import booking_numbers, post_numbers, with_latest
from ..repository import bookings as bookings_repo
from ..repository import influencers as influencers_repo
from ..repository import posts as posts_repo
from .common import ViewerDep, is_fragment_request, optional, page_router, pages, render

router = page_router()

ROSTER_PAGE = 200  # creators a page, A to Z; the filters run over the whole roster
HISTORY_SAMPLES = 2000  # one post's own samples: a few a day over a campaign's weeks


PLATFORMS = ("tiktok", "instagram", "youtube", "facebook")
# Audience bands an account manager shortlists by (followers over all handles).
FOLLOWER_BANDS = {
    "": ("Any audience", 0),
    "10k": ("10K+ followers", 10_000),
    "100k": ("100K+ followers", 100_000),
    "1m": ("1M+ followers", 1_000_000),
}


def reach(handles: list[dict[str, Any]]) -> int | None:
    """Followers over every handle; None when no handle's count is known."""
    known = [h["followers"] for h in handles if h["followers"] is not None]
    return sum(known) if known else None


@router.get("/influencers")
async def influencers_page(
    request: Request,
    ctx: ContextDep,
    viewer: ViewerDep,
    q: Annotated[str | None, Query(max_length=200)] = None,
    tier: Annotated[str, Query(max_length=100)] = "",
    platform: Annotated[str, Query(max_length=20)] = "",
    followers: Annotated[str, Query(max_length=10)] = "",
    after: UUID | None = None,
) -> Response:
    """Search by name, filter by tier, platform and audience, over the whole roster, A to Z a
    page at a time (`after`: the last creator of the page before); an htmx request gets the
    list alone."""
    org_id = viewer.principal.org_id
    search = (q or "").strip() or None
    band = followers if followers in FOLLOWER_BANDS else ""
    chosen_platform = platform if platform in PLATFORMS else ""
    async with org_read(ctx.pool, org_id) as conn:  # one snapshot for the page and the tiers
        rows = await influencers_repo.roster(
            conn,
            org_id=org_id,
            q=search,
            tier=tier,
            platform=chosen_platform,
            min_followers=FOLLOWER_BANDS[band][1],
            after=after,
            limit=ROSTER_PAGE + 1,  # one more tells whether a next page exists
        )
        shown = await influencers_repo.with_handles(conn, org_id=org_id, rows=rows[:ROSTER_PAGE])
        tiers = await influencers_repo.tiers(conn, org_id=org_id)
    filters = {"tier": tier, "platform": chosen_platform, "followers": band}
    more = str(shown[-1]["id"]) if len(rows) > ROSTER_PAGE else None
    links = pages(
        "/influencers", {"q": search or "", **filters}, str(after or ""), more, cursor_name="after"
    )
    context: dict[str, Any] = {
        "influencers": [{**row, "reach": reach(row["handles"])} for row in shown],
        "q": search or "",
        "filters": filters,
        "tiers": tiers,
        "platforms": PLATFORMS,
        "bands": FOLLOWER_BANDS,
        "filtered": bool(search or tier or chosen_platform or band),
        "page_size": ROSTER_PAGE,
        **links,
    }
    if is_fragment_request(request) and request.headers.get("hx-target") == "influencer-list":
        return render(request, "influencers_list.html", headers={"Vary": "HX-Request"}, **context)
    return render(request, "influencers.html", headers={"Vary": "HX-Request"}, **context)


@router.get("/influencers/{influencer_id}")
async def influencer_page(
    request: Request, ctx: ContextDep, viewer: ViewerDep, influencer_id: UUID
) -> Response:
    """Handles, each booking's KPIs and contract terms, and the posts with their latest numbers
    (all from the catalog and the aggregator's documents; never from raw samples)."""
    org_id = viewer.principal.org_id
    async with org_read(ctx.pool, org_id) as conn:
        influencer = await influencers_repo.read_influencer(
            conn, org_id=org_id, influencer_id=influencer_id
        )
        if influencer is None:
            raise ApiError(404, f"no influencer {influencer_id}")
        bookings = await bookings_repo.bookings_of_influencer(
            conn, org_id=org_id, influencer_id=influencer_id
        )
        posts = await posts_repo.posts_of_bookings(
            conn, org_id=org_id, booking_ids=[b["id"] for b in bookings]
        )
    notices: list[str] = []
    campaign_ids = list(dict.fromkeys(b["campaign_id"] for b in bookings))
    by_campaign = await optional(numbers.campaign_documents(ctx, org_id, campaign_ids), {}, notices)
    posts_of: dict[UUID, list[dict[str, Any]]] = {}
    for post in posts:
        posts_of.setdefault(post["booking_id"], []).append(post)
    detail = []
    for booking in sorted(bookings, key=lambda b: b["start_date"], reverse=True):
        doc = by_campaign.get(booking["campaign_id"])
        latest = post_numbers(doc)
        mine = [with_latest(p, latest) for p in posts_of.get(booking["id"], [])]
        kpis = booking_numbers(doc).get(str(booking["id"]))
        detail.append(
            {
                **booking,
                "kpis": kpis,
                "forecast": (kpis or {}).get("forecast"),
                # An estimate at the organization's current rates; ROI is staff-only.
                "emv": booking_emv(doc).get(str(booking["id"])),
                "emv_currency": ((doc or {}).get("emv") or {}).get("currency"),
                "forecast_chart": forecast_chart(kpis),
                "timeline_pct": doc["campaign"].get("timeline_pct") if doc else None,
                "posts": mine,
                "estimated": any((p.get("latest") or {}).get("estimated") for p in mine),
            }
        )
    totals = _totals(detail)
    return render(
        request,
        "influencer.html",
        influencer=influencer,
        bookings=detail,
        totals=totals,
        notices=sorted(set(notices)),
    )


def forecast_chart(kpis: dict[str, Any] | None) -> dict[str, Any] | None:
    """The booking's recent days and its forecast path, for a small growth chart with the
    dashed projection; None until the forecast projects."""
    forecast = (kpis or {}).get("forecast") or {}
    recent = (kpis or {}).get("recent") or []
    if forecast.get("status") != "projected" or not recent:
        return None
    path = forecast.get("path") or []
    return {
        "dates": [d["date"] for d in recent],
        "views_cum": [d["views_cum"] for d in recent],
        "engagement_cum": [d["engagement_cum"] for d in recent],
        "views_delta": [d["views_delta"] for d in recent],
        "engagement_delta": [d["engagement_delta"] for d in recent],
        "projection": {
            "dates": [p["date"] for p in path],
            "views_cum": [p["views_cum"] for p in path],
        },
    }


def _totals(bookings: list[dict[str, Any]]) -> dict[str, Any]:
    """Across campaigns: views and engagement add up; fees only within one currency."""
    computed = [b["kpis"] for b in bookings if b["kpis"]]
    views = sum(k.get("actual_views") or 0 for k in computed) if computed else None
    engagement = sum(k.get("actual_engagement") or 0 for k in computed) if computed else None
    currencies = {b["currency"] for b in bookings}
    return {
        "views": views,
        "engagement": engagement,
        "engagement_rate": round(100.0 * engagement / views, 2)
        if views and engagement is not None
        else None,
        "posts": sum(len(b["posts"]) for b in bookings),
        "fees_cents": sum(b["fee_cents"] for b in bookings) if len(currencies) == 1 else None,
        "currency": next(iter(currencies)) if len(currencies) == 1 else None,
    }


@router.get("/influencers/{influencer_id}/posts/{post_id}/history")
async def post_history_fragment(
    request: Request, ctx: ContextDep, viewer: ViewerDep, influencer_id: UUID, post_id: UUID
) -> Response:
    """One post's metric history as a small chart, loaded when the card scrolls into view.

    These are the post's own samples (bounded), reduced to each day's last reading."""
    org_id = viewer.principal.org_id
    async with org_read(ctx.pool, org_id) as conn:
        post = await posts_repo.read_post(conn, org_id=org_id, post_id=post_id)
        if post is None:
            raise ApiError(404, f"no post {post_id}")
        booking = await bookings_repo.read_booking(
            conn, org_id=org_id, booking_id=post["booking_id"]
        )
    if booking is None or booking["influencer_id"] != influencer_id:
        raise ApiError(404, f"no post {post_id}")
    notices: list[str] = []
    body = await optional(
        peers.post_samples(ctx, org_id, post_id, limit=HISTORY_SAMPLES, cursor=None),
        SamplePage(items=[], next_cursor=None),
        notices,
    )
    return render(
        request,
        "influencer_post_history.html",
        post=post,
        chart=daily_closes(body.items),
        unavailable=bool(notices),
    )


def daily_closes(samples: list[PostSample]) -> dict[str, Any]:
    """Each day's last sample (cumulative) and the change from the day before."""
    closes: dict[str, PostSample] = {}
    for sample in samples:  # oldest first
        closes[sample.observed_at.astimezone(UTC).date().isoformat()] = sample
    dates = sorted(closes)
    views = [closes[d].views for d in dates]
    engagement = [_engagement(closes[d]) for d in dates]
    return {
        "dates": dates,
        "views_cum": views,
        "engagement_cum": engagement,
        "views_delta": _deltas(views),
        "engagement_delta": _deltas(engagement),
        "estimated": any(s.estimated for s in closes.values()),
    }


def _engagement(sample: PostSample) -> int | None:
    parts = [sample.likes, sample.comments, sample.shares, sample.saves]
    if all(p is None for p in parts):
        return None
    return sum(p or 0 for p in parts)


def _deltas(values: list[int | None]) -> list[int | None]:
    out: list[int | None] = []
    previous: int | None = None
    for value in values:
        out.append(None if value is None or previous is None else value - previous)
        previous = value if value is not None else previous
    return out
