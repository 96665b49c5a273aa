"""A campaign's creators beside a benchmark set, percentile by percentile (docs/insights.md):
the set's accounts with ingest's rollups, the set's percentiles, and each creator's figures from
the numbers document; for /api/benchmarks/{set_id} and the Benchmarks screen alike."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pulse_contracts.internal.ingest import BenchmarkAccount
from pulse_runtime.errors import Invalid

from .. import numbers, peers
from ..benchmarks import creator_figures, rank_creator, set_percentiles
from ..context import GatewayContext
from ..db import org_transaction
from ..repository import bookings as bookings_repo
from ..repository import campaigns as campaigns_repo
from .benchmarks import get_set

TAGS_SHOWN = 10  # the set's top hashtags and mentions in a comparison


async def set_with_rollups(ctx: GatewayContext, org_id: UUID, set_id: UUID) -> dict[str, Any]:
    """The set and its accounts, each with ingest's pull status and rollup."""
    async with org_transaction(ctx.pool, org_id) as conn:
        found = await get_set(conn, org_id, set_id)
    pulled = await peers.benchmark_accounts(ctx, org_id, [a["id"] for a in found["accounts"]])
    found["accounts"] = [_with_rollup(a, pulled) for a in found["accounts"]]
    return found


def _with_rollup(account: dict[str, Any], pulled: dict[UUID, BenchmarkAccount]) -> dict[str, Any]:
    found = pulled.get(account["id"])
    held = found.model_dump(mode="json") if found else {}  # as ingest answered it (JSON)
    keys = (
        "status",
        "status_detail",
        "last_pulled_at",
        "followers",
        "as_of",
        "posts_30d",
        "posts_per_week",
        "median_views",
        "median_engagement_rate",
        "follower_growth_pct",
        "view_growth_pct",
        "growth_days",
    )
    return {**account, **{k: held.get(k) for k in keys}, "status": held.get("status", "pending")}


async def benchmark_comparison(
    ctx: GatewayContext, org_id: UUID, set_id: UUID, campaign_id: UUID | None
) -> dict[str, Any]:
    """The set's percentiles, its accounts, and (with a campaign) each creator's figures and
    where they stand in the set; for the API and the Benchmarks screen alike."""
    async with org_transaction(ctx.pool, org_id) as conn:
        found = await get_set(conn, org_id, set_id)
        name: str | None = None
        creators: list[dict[str, Any]] | None = None
        if campaign_id is not None:
            name = await campaigns_repo.campaign_name(conn, org_id=org_id, campaign_id=campaign_id)
            if name is None:
                raise Invalid(
                    "campaign_id",
                    f"no campaign {campaign_id} in your organization",
                    details=[{"path": "campaign_id", "message": "unknown campaign"}],
                )
            creators = await bookings_repo.creators_of_campaign(
                conn, org_id=org_id, campaign_id=campaign_id
            )
    account_ids = [a["id"] for a in found["accounts"]]
    pulled = await peers.benchmark_accounts(ctx, org_id, account_ids)
    accounts = [_with_rollup(a, pulled) for a in found["accounts"]]
    result: dict[str, Any] = {
        "tags": (await peers.benchmark_tags(ctx, org_id, account_ids, TAGS_SHOWN)).model_dump(
            mode="json"
        ),
        "set": {k: found[k] for k in ("id", "name", "created_at", "updated_at")},
        "percentiles": set_percentiles(accounts),
        "accounts": accounts,
        "campaign": None,
        "creators": [],
    }
    if campaign_id is not None and creators is not None:
        doc = await numbers.campaign_numbers(ctx, org_id, campaign_id, parts=("posts",))
        posts = doc["posts"] if doc else []
        result["campaign"] = {"id": campaign_id, "name": name}
        for creator in sorted(creators, key=lambda c: (c["display_name"] or "").lower()):
            mine = [p for p in posts if p["booking_id"] == str(creator["booking_id"])]
            figures = creator_figures(mine)
            result["creators"].append(
                {
                    "influencer_id": creator["influencer_id"],
                    "name": creator["display_name"],
                    "posts": sum(1 for p in mine if p.get("latest")),
                    "figures": figures,
                    "percentile_in_set": rank_creator(figures, accounts),
                }
            )
    return result
