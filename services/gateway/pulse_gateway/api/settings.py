"""/api/settings: the organization's own settings: its alert thresholds and its API limit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field, create_model

from pulse_contracts.alerts import AlertThresholds

from ..deps import ContextDep, Manager, Owner, PoolDep, Reader
from ..handlers import organizations as handlers

router = APIRouter(prefix="/api/settings", tags=["settings"])

# Every threshold optional: a PUT may change a few and leave the rest as they are; null puts a
# threshold back to its default. Ranges are checked on the merged whole (AlertThresholds), so
# a 422 names the bad field whichever rule it breaks.
ThresholdsChange: type[BaseModel] = create_model(  # type: ignore[call-overload]
    "ThresholdsChange",
    __config__=ConfigDict(extra="forbid"),
    **{
        name: (info.annotation | None, None)  # type: ignore[operator]
        for name, info in AlertThresholds.model_fields.items()
    },
)


@router.get("/alert-thresholds", response_model=AlertThresholds)
async def get_alert_thresholds(pool: PoolDep, caller: Reader) -> AlertThresholds:
    """The thresholds the alerter applies to this organization: its own values, defaults
    (design/kpis.md) for the rest."""
    return await handlers.alert_thresholds(pool, caller)


@router.put("/alert-thresholds", response_model=AlertThresholds)
async def put_alert_thresholds(
    pool: PoolDep,
    caller: Manager,
    body: ThresholdsChange,
) -> AlertThresholds:
    """Change some or all thresholds; the answer is the whole set now in force."""
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    return await handlers.change_alert_thresholds(pool, caller, changes)


class ApiLimit(BaseModel):
    requests_per_minute: int  # in force for each person and API token of the organization
    organization_value: int | None  # the organization's own; null: the gateway's default
    default: int
    window_s: int


class ApiLimitChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    # null puts the organization back on the gateway's default. At most 10,000: each request
    # of the last minute is one entry in its caller's window (rate_limits.py).
    requests_per_minute: int | None = Field(ge=1, le=10_000)


@router.get("/api-limit", response_model=ApiLimit)
async def get_api_limit(ctx: ContextDep, caller: Reader) -> dict[str, Any]:
    """API requests per minute for each person (and API token) of this organization; every
    /api answer also tells it in RateLimit-Limit."""
    return await handlers.api_limit(ctx.pool, caller, ctx.settings.api_requests_per_minute)


@router.put("/api-limit", response_model=ApiLimit)
async def put_api_limit(ctx: ContextDep, caller: Owner, body: ApiLimitChange) -> dict[str, Any]:
    """Owners set their organization's own limit; every replica applies it within seconds."""
    found = await handlers.change_api_limit(
        ctx.pool, caller, body.requests_per_minute, ctx.settings.api_requests_per_minute
    )
    if ctx.limits is not None:
        ctx.limits.organizations.forget(caller.org_id)
    return found
