"""The numbers the gateway shows, from its own read model (read_model.py): one local lookup per
read. Only a creator's own daily series still asks the aggregator, which alone holds the
per-post closes it is summed from.

Callers check in the catalog first that the campaigns are the caller organization's and not
deleted; the read model answers by campaign id within the organization.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any
from uuid import UUID

from pulse_contracts import utcnow
from pulse_contracts.compare import compare_campaigns
from pulse_contracts.internal.ingest import PostPull
from pulse_contracts.numbers import CampaignNumbers
from pulse_runtime.errors import ApiError

from . import emv, peers
from .context import GatewayContext
from .http_cache import dumps
from .read_model import Backfill


async def campaign_numbers(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID, parts: Collection[str] | None = None
) -> dict[str, Any] | None:
    """The campaign's number document as of now (JSON), or None before its first computation.
    With `parts` ("bookings", "posts", "daily", "platforms"), only those besides the campaign
    figures: a read parses only what it shows. A read of the whole document, its bookings or
    its posts carries the campaign's earned media value (emv.py) at the current rates."""
    read, valued = emv.wanted_parts(parts)
    doc = await ctx.numbers.document(
        ctx.pool, org_id, campaign_id, now=utcnow(), backfill=_from_aggregator(ctx), parts=read
    )
    if doc is None or not valued:
        return doc
    return emv.with_emv(doc, await emv.organization_rates(ctx.pool, org_id), parts)


async def booking_snapshots_json(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID
) -> dict[str, bytes]:
    """The campaign's booking KPI snapshots by booking id (as text), each as the compact JSON
    the read model holds, and nothing else: no earned media value, which a booking list does
    not show (the document's `emv` is a part of its own, beside the bookings), so neither the
    posts nor the organization's rates are read."""
    found = await ctx.numbers.booking_json(
        ctx.pool, org_id, campaign_id, now=utcnow(), backfill=_from_aggregator(ctx)
    )
    return found or {}


async def versioned_numbers(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID
) -> tuple[dict[str, Any] | None, int]:
    """The whole document as of now and its version (what the live stream announces), read
    together for the campaign page, with its earned media value at the current rates; (None, 0)
    before the first computation."""
    doc, version = await ctx.numbers.versioned(
        ctx.pool, org_id, campaign_id, now=utcnow(), backfill=_from_aggregator(ctx)
    )
    if doc is None:
        return doc, version
    return emv.with_emv(doc, await emv.organization_rates(ctx.pool, org_id), None), version


async def campaign_documents(
    ctx: GatewayContext, org_id: UUID, campaign_ids: Sequence[UUID]
) -> dict[UUID, dict[str, Any]]:
    """Several campaigns' whole documents as of now, by campaign id (uncomputed ones absent),
    each with its earned media value at the current rates."""
    if not campaign_ids:
        return {}
    found = await ctx.numbers.numbers(
        ctx.pool, org_id, campaign_ids, now=utcnow(), backfill=_from_aggregator(ctx)
    )
    if not found:
        return found
    rates = await emv.organization_rates(ctx.pool, org_id)
    return {cid: emv.with_emv(doc, rates, None) for cid, doc in found.items()}


async def campaign_summaries(
    ctx: GatewayContext, org_id: UUID, campaign_ids: Sequence[UUID]
) -> dict[UUID, dict[str, Any]]:
    """The campaign KPI snapshots by campaign id (campaigns not computed yet are absent)."""
    if not campaign_ids:
        return {}
    found = await ctx.numbers.numbers(
        ctx.pool, org_id, campaign_ids, now=utcnow(), backfill=_from_aggregator(ctx), parts=()
    )
    return {cid: doc["campaign"] for cid, doc in found.items()}


async def daily(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID, influencer_id: UUID | None
) -> list[dict[str, Any]]:
    """The daily series; with `influencer_id`, over that creator's posts only."""
    if influencer_id is not None:
        points = await peers.daily(ctx, org_id, campaign_id, influencer_id)
        return [p.model_dump(mode="json") for p in points]  # JSON, like the read model's
    doc = await campaign_numbers(ctx, org_id, campaign_id, parts=("daily",))
    return list(doc["daily"]) if doc else []


async def daily_json(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID, influencer_id: UUID | None
) -> bytes:
    """`{"items": daily}` as compact JSON: the campaign's series is the read model's held
    JSON as it is (the same text json.dumps of `daily` gives, so the same ETag); a creator's
    own series comes from the aggregator."""
    if influencer_id is not None:
        return dumps({"items": await daily(ctx, org_id, campaign_id, influencer_id)})
    held = await ctx.numbers.part_json(
        ctx.pool, org_id, campaign_id, "daily", now=utcnow(), backfill=_from_aggregator(ctx)
    )
    return b'{"items":' + held + b"}" if held is not None else b'{"items":[]}'


async def compare(
    ctx: GatewayContext, org_id: UUID, campaign_ids: Sequence[UUID]
) -> dict[str, Any]:
    """2–3 campaigns side by side with winners (kpis.md Compare), in the order given; 404 for
    a campaign without numbers yet, as the aggregator answered."""
    now = utcnow()
    found = await ctx.numbers.figures(
        ctx.pool, org_id, campaign_ids, now=now, backfill=_from_aggregator(ctx)
    )
    if missing := [cid for cid in campaign_ids if cid not in found]:
        raise ApiError(404, f"no numbers for campaign {missing[0]}")
    documents = [CampaignNumbers(campaign=found[cid], as_of=now) for cid in campaign_ids]
    return compare_campaigns(documents).model_dump(mode="json")


def _from_aggregator(ctx: GatewayContext) -> Backfill:
    async def ask(org_id: UUID, campaign_id: UUID) -> dict[str, Any] | None:
        # The read model keeps documents as the JSON the aggregator sent.
        doc = await peers.campaign_numbers(ctx, org_id, campaign_id)
        return doc.model_dump(mode="json") if doc is not None else None

    return ask


# --- joining the catalog's rows with the numbers (pure) ---------------------------------------


def booking_numbers(doc: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The numbers document's booking snapshots by booking id (as text)."""
    return {str(b["booking_id"]): b for b in (doc or {}).get("bookings", [])}


def post_numbers(doc: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """The numbers document's posts by post id (as text)."""
    return {str(p["post_id"]): p for p in (doc or {}).get("posts", [])}


def with_latest(row: dict[str, Any], numbers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    found = numbers.get(str(row["id"]), {})
    return {
        **row,
        "posted_at": found.get("posted_at"),
        "caption": found.get("caption"),
        "thumb_url": found.get("thumb_url"),
        "latest": found.get("latest"),
    }


def with_pulls(row: dict[str, Any], pulls: dict[UUID, PostPull]) -> dict[str, Any]:
    """Pull status, last error and last successful pull, as ingest knows them."""
    pull = pulls.get(row["id"])
    if pull is None:
        return row
    return {
        **row,
        "pull_status": pull.status,
        "last_error": pull.last_error,
        "last_pulled_at": pull.last_success_at,
    }
