"""/api/settings: the organization's own settings; for now its alert thresholds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, create_model

from pulse_contracts.alerts import AlertThresholds

from ..deps import Manager, PoolDep, Reader
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
