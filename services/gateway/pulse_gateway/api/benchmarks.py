"""/api/benchmark-sets (the accounts an agency benchmarks against) and /api/benchmarks/{set_id}
(a campaign's creators beside the set, percentile by percentile; docs/insights.md)."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.encoders import jsonable_encoder

from pulse_runtime.errors import ApiError

from ..deps import ContextDep, Manager, PoolDep, Reader
from ..handlers import benchmark_comparison as comparison
from ..handlers import benchmarks as handlers
from ..handlers.benchmarks import AccountIn, SetIn, SetPatch
from ..http_cache import etagged_json

router = APIRouter(tags=["benchmarks"])


@router.get("/api/benchmark-sets")
async def list_sets(pool: PoolDep, caller: Reader) -> dict[str, Any]:
    return {"items": await handlers.list_sets(pool, caller), "next_cursor": None}


@router.post("/api/benchmark-sets", status_code=201)
async def create_set(body: SetIn, pool: PoolDep, caller: Manager) -> dict[str, Any]:
    accounts = [(a.platform, a.handle) for a in body.accounts]
    return await handlers.create_set(pool, caller, body.name, accounts)


@router.get("/api/benchmark-sets/{set_id}")
async def get_set(set_id: UUID, ctx: ContextDep, caller: Reader) -> dict[str, Any]:
    """The set and its accounts, each with ingest's pull status and rollup."""
    return await comparison.set_with_rollups(ctx, caller.org_id, set_id)


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
    body = await comparison.benchmark_comparison(ctx, caller.org_id, set_id, wanted)
    return etagged_json(request, jsonable_encoder(body))
