"""/api/benchmark-sets (the accounts an agency benchmarks against) and /api/benchmarks/{set_id}
(a campaign's creators beside the set, percentile by percentile; docs/insights.md)."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pulse_contracts.internal.ingest import BenchmarkAccount
from pulse_runtime.errors import ApiError

from .. import numbers, peers
from ..benchmarks import MAX_ACCOUNTS, creator_figures, rank_creator, set_percentiles
from ..db import org_transaction
from ..deps import ContextDep, Manager, PoolDep, Reader
from ..handlers import benchmarks as handlers
from ..http_cache import etagged_json
from ..repository import sql

router = APIRouter(tags=["benchmarks"])

Name = Annotated[str, Field(min_length=1, max_length=200)]
TAGS_SHOWN = 10  # the set's top hashtags and mentions in a comparison
_CAMPAIGN_OF_ORG = (
    "SELECT id, name FROM catalog.campaigns WHERE org_id = $1 AND id = $2 AND deleted_at IS NULL"
)
_CREATORS = """
SELECT b.id AS booking_id, b.influencer_id, i.display_name
FROM catalog.bookings AS b JOIN catalog.influencers AS i ON i.id = b.influencer_id
WHERE b.org_id = $1 AND b.campaign_id = $2 AND b.deleted_at IS NULL
"""


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: Literal["tiktok", "instagram"]
    handle: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._]+$")

    @field_validator("handle", mode="before")
    @classmethod
    def _without_at(cls, value: object) -> object:
        """People paste "@name" or a profile URL's last part; the handle is "name"."""
        return value.strip().lstrip("@") if isinstance(value, str) else value


class SetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    accounts: list[AccountIn] = Field(default_factory=list, max_length=MAX_ACCOUNTS)

    @field_validator("accounts")
    @classmethod
    def _distinct(cls, accounts: list[AccountIn]) -> list[AccountIn]:
        seen: set[tuple[str, str]] = set()
        for a in accounts:
            key = (a.platform, a.handle.lower())
            if key in seen:
                raise ValueError(f"{a.platform} @{a.handle} is listed twice")
            seen.add(key)
        return accounts


class SetPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name


@router.get("/api/benchmark-sets")
async def list_sets(pool: PoolDep, caller: Reader) -> dict[str, Any]:
    async with org_transaction(pool, caller.org_id) as conn:
        rows = await conn.fetch(sql.benchmark_sets_list, caller.org_id)
    return {"items": [dict(r) for r in rows], "next_cursor": None}


@router.post("/api/benchmark-sets", status_code=201)
async def create_set(body: SetIn, pool: PoolDep, caller: Manager) -> dict[str, Any]:
    accounts = [(a.platform, a.handle) for a in body.accounts]
    return await handlers.create_set(pool, caller, body.name, accounts)


@router.get("/api/benchmark-sets/{set_id}")
async def get_set(set_id: UUID, ctx: ContextDep, caller: Reader) -> dict[str, Any]:
    """The set and its accounts, each with ingest's pull status and rollup."""
    async with org_transaction(ctx.pool, caller.org_id) as conn:
        found = await handlers.get_set(conn, caller.org_id, set_id)
    pulled = await peers.benchmark_accounts(
        ctx, caller.org_id, [a["id"] for a in found["accounts"]]
    )
    found["accounts"] = [_with_rollup(a, pulled) for a in found["accounts"]]
    return found


@router.patch("/api/benchmark-sets/{set_id}")
async def rename_set(
    set_id: UUID, body: SetPatch, pool: PoolDep, caller: Manager
) -> dict[str, Any]:
    return await handlers.rename_set(pool, caller, set_id, body.name)


@router.delete("/api/benchmark-sets/{set_id}", status_code=204)
async def delete_set(set_id: UUID, pool: PoolDep, caller: Manager) -> Response:
    await handlers.delete_set(pool, caller, set_id)
    return Response(status_code=204)


@router.post("/api/benchmark-sets/{set_id}/accounts", status_code=201)
async def add_account(
    set_id: UUID, body: AccountIn, pool: PoolDep, caller: Manager
) -> dict[str, Any]:
    return await handlers.add_account(pool, caller, set_id, body.platform, body.handle)


@router.delete("/api/benchmark-sets/{set_id}/accounts/{account_id}", status_code=204)
async def remove_account(
    set_id: UUID, account_id: UUID, pool: PoolDep, caller: Manager
) -> Response:
    await handlers.remove_account(pool, caller, set_id, account_id)
    return Response(status_code=204)


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
    ctx: ContextDep, org_id: UUID, set_id: UUID, campaign_id: UUID | None
) -> dict[str, Any]:
    """The set's percentiles, its accounts, and (with a campaign) each creator's figures and
    where they stand in the set; for the API and the Benchmarks screen alike."""
    async with org_transaction(ctx.pool, org_id) as conn:
        found = await handlers.get_set(conn, org_id, set_id)
        campaign = creators = None
        if campaign_id is not None:
            campaign = await conn.fetchrow(_CAMPAIGN_OF_ORG, org_id, campaign_id)
            if campaign is None:
                raise ApiError(
                    422,
                    f"no campaign {campaign_id} in your organization",
                    details=[{"path": "campaign_id", "message": "unknown campaign"}],
                )
            creators = [dict(r) for r in await conn.fetch(_CREATORS, org_id, campaign_id)]
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
    if campaign is not None and creators is not None:
        doc = await numbers.campaign_numbers(ctx, org_id, campaign["id"], parts=("posts",))
        posts = doc["posts"] if doc else []
        result["campaign"] = {"id": campaign["id"], "name": campaign["name"]}
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


@router.get("/api/benchmarks/{set_id}")
async def benchmark(
    request: Request,
    set_id: UUID,
    ctx: ContextDep,
    caller: Reader,
    campaign_id: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    wanted: UUID | None = None
    if campaign_id:
        try:
            wanted = UUID(campaign_id)
        except ValueError:
            raise ApiError(
                422,
                "campaign_id must be a campaign's id (a UUID)",
                details=[{"path": "campaign_id", "message": "not a UUID"}],
            ) from None
    body = await benchmark_comparison(ctx, caller.org_id, set_id, wanted)
    return etagged_json(request, jsonable_encoder(body))
