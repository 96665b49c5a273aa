"""P4: the same reads computed naively from the raw samples at request time, in the same run
(target: Pulse ≥ 100× faster — the reason the aggregator keeps rollups).

"Naive" is the SQL an engineer without rollups would write over `ingest.samples`: every raw
sample of the campaign's posts is read, the latest per post is picked (DISTINCT ON) for the
campaign KPIs, and each post's close per UTC day is picked and carried forward for the daily
series (kpis.md's definition, literally). The queries run straight on PostgreSQL, one at a
time, with no HTTP around them — which flatters the naive side. Pulse's side is the gateway's
GET /api/campaigns/{id} and /daily for the same campaigns, one client at a time, so both sides
are single-request latencies. The naive answers are also compared with Pulse's: a campaign
whose numbers differ counts as missing.
"""

from __future__ import annotations

import random
import time
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx

from ..loadgen import LoadSpec, run_load_process
from ..stats import Latency, Result
from . import Context
from .p3_reads import staff_token

TARGET_RATIO = 100.0
ENGAGEMENT = (
    "COALESCE(s.likes, 0) + COALESCE(s.comments, 0) + COALESCE(s.shares, 0) + COALESCE(s.saves, 0)"
)

NAIVE_KPIS = f"""
SELECT count(*) AS posts_live, COALESCE(sum(views), 0)::bigint AS views,
       COALESCE(sum(engagement), 0)::bigint AS engagement
FROM (
    SELECT DISTINCT ON (s.post_key) COALESCE(s.views, 0) AS views, {ENGAGEMENT} AS engagement
    FROM ingest.samples AS s
    JOIN ingest.tracked_posts AS p ON p.key = s.post_key
    WHERE p.campaign_id = $1 AND p.removed_at IS NULL
    ORDER BY s.post_key, s.observed_at DESC, COALESCE(s.views, 0) DESC
) AS latest
"""

NAIVE_DAILY = f"""
WITH posts AS (
    SELECT key FROM ingest.tracked_posts WHERE campaign_id = $1 AND removed_at IS NULL
), closes AS (
    SELECT DISTINCT ON (s.post_key, day)
           s.post_key, (s.observed_at AT TIME ZONE 'UTC')::date AS day,
           COALESCE(s.views, 0) AS views, {ENGAGEMENT} AS engagement
    FROM ingest.samples AS s JOIN posts AS p ON p.key = s.post_key
    ORDER BY s.post_key, day, s.observed_at DESC, COALESCE(s.views, 0) DESC
), days AS (
    SELECT d::date AS day
    FROM generate_series(LEAST($2::date, (SELECT min(day) FROM closes)), $3::date,
                         interval '1 day') AS d
), grid AS (
    -- run = how many closes the post has up to this day: a run shares its last close
    SELECT d.day, p.key, c.views, c.engagement,
           count(c.views) OVER (PARTITION BY p.key ORDER BY d.day) AS run
    FROM days AS d CROSS JOIN posts AS p
    LEFT JOIN closes AS c ON c.post_key = p.key AND c.day = d.day
), carried AS (
    SELECT day, key, max(views) OVER (PARTITION BY key, run) AS views,
           max(engagement) OVER (PARTITION BY key, run) AS engagement
    FROM grid
), totals AS (
    SELECT day, COALESCE(sum(views), 0)::bigint AS views_cum,
           COALESCE(sum(engagement), 0)::bigint AS engagement_cum, count(views) AS posts_live
    FROM carried GROUP BY day
)
SELECT day, views_cum, views_cum - lag(views_cum, 1, 0::bigint) OVER (ORDER BY day) AS views_delta,
       engagement_cum, posts_live
FROM totals ORDER BY day
"""


async def run(ctx: Context) -> list[Result]:
    world, sizes = ctx.world, ctx.world.sizes
    rng = random.Random(4)
    campaigns = rng.sample(
        world.reads.campaigns, min(sizes.naive_campaigns, len(world.reads.campaigns))
    )
    token = await staff_token(world.system.url("gateway"), world.reads.email)
    headers = {"Authorization": f"Bearer {token}"}
    naive: dict[str, list[float]] = {"campaign": [], "daily": []}
    mismatches: list[str] = []
    today = datetime.now(UTC).date()
    admin = await world.admin()
    try:
        async with httpx.AsyncClient(
            base_url=world.system.url("gateway"), headers=headers, timeout=30
        ) as api:
            for campaign in campaigns:
                started = time.perf_counter()
                kpis = await admin.fetchrow(NAIVE_KPIS, UUID(campaign.id))
                naive["campaign"].append(time.perf_counter() - started)
                start = date.fromisoformat(campaign.start_date)
                last = min(today, date.fromisoformat(campaign.end_date) + timedelta(days=7))
                started = time.perf_counter()
                daily = await admin.fetch(NAIVE_DAILY, UUID(campaign.id), start, last)
                naive["daily"].append(time.perf_counter() - started)
                # The naive answer must be Pulse's answer, or the ratio compares different work.
                shown = (await api.get(f"/api/campaigns/{campaign.id}")).json()["kpis"]
                series = (await api.get(f"/api/campaigns/{campaign.id}/daily")).json()["items"]
                mismatches += _differences(campaign.id, kpis, daily, shown, series, start)
    finally:
        await admin.close()

    paths = {
        "campaign": [f"/api/campaigns/{c.id}" for c in campaigns],
        "daily": [f"/api/campaigns/{c.id}/daily" for c in campaigns],
    }
    pulse = await run_load_process(
        LoadSpec(
            port=world.system.ports["gateway"],
            paths=paths,
            clients=1,
            seconds=max(2.0, sizes.read_seconds / 10),
            warmup_seconds=0.5,
            headers=headers,
        )
    )
    ratios: dict[str, float] = {}
    latencies: dict[str, Any] = {}
    for read in ("campaign", "daily"):
        slow, fast = Latency.of(naive[read]), Latency.of(pulse.latencies.get(read, []))
        latencies[read] = {"naive": slow, "pulse": fast}
        if slow and fast:
            ratios[read] = round(slow.p50 / fast.p50, 1)
    figure = min(ratios.values()) if ratios else None
    failed = sum(n for s in pulse.statuses.values() for c, n in s.items() if c != 200)
    return [
        Result(
            id="P4",
            title="Same reads computed naively from raw samples (same run)",
            figure=figure,
            unit="× faster (p50, worst read)",
            target=f"Pulse ≥ {TARGET_RATIO:g}× faster",
            met=figure is not None and figure >= TARGET_RATIO,
            latency=Latency.of(naive["campaign"] + naive["daily"]),
            baseline=latencies["campaign"]["naive"].p50 if latencies["campaign"]["naive"] else None,
            baseline_name="naive campaign KPIs p50 ms",
            ratio=figure,
            missing=len(mismatches) + failed + pulse.error_count,
            counts={
                "campaigns": len(campaigns),
                "naive_queries": len(naive["campaign"]) + len(naive["daily"]),
                "pulse_requests": sum(len(v) for v in pulse.latencies.values()),
                "mismatches": len(mismatches),
            },
            details={
                "ratio_by_read": ratios,
                "latency_ms": latencies,
                "samples_per_campaign": sizes.read_bookings
                * sizes.read_posts_per_booking
                * sizes.samples_per_post,
                "mismatches": mismatches[:10],
            },
        )
    ]


def _differences(
    campaign_id: str,
    kpis: Any,
    daily: list[Any],
    shown: dict[str, Any],
    series: list[dict[str, Any]],
    start: date,
) -> list[str]:
    found = []
    if (kpis["views"], kpis["engagement"], kpis["posts_live"]) != (
        shown["actual_views"],
        shown["actual_engagement"],
        shown["actual_posts"],
    ):
        found.append(f"{campaign_id} KPIs: naive {dict(kpis)} vs Pulse {shown}")
    pulse_days = {d["date"]: d["views_cum"] for d in series}
    for row in daily:
        day = row["day"].isoformat()
        if row["day"] >= start and day in pulse_days and pulse_days[day] != row["views_cum"]:
            found.append(f"{campaign_id} {day}: naive {row['views_cum']} vs {pulse_days[day]}")
            break
    return found
