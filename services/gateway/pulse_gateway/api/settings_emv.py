"""/api/settings/emv-rates: the organization's earned media value rates (docs/insights.md)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from pulse_contracts.emv import EmvRates, Rate
from pulse_contracts.values import CurrencyCode

from ..deps import Manager, PoolDep, Reader
from ..handlers import emv_rates as handlers

router = APIRouter(prefix="/api/settings", tags=["settings"])


class PlatformRatesChange(BaseModel):
    """Any metric may be left out (kept) or null (back to its default)."""

    model_config = ConfigDict(extra="forbid")
    per_1000_views: Rate | None = None
    per_like: Rate | None = None
    per_comment: Rate | None = None
    per_share: Rate | None = None
    per_save: Rate | None = None


class EmvRatesChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    currency: CurrencyCode | None = None
    tiktok: PlatformRatesChange | None = None
    instagram: PlatformRatesChange | None = None
    youtube: PlatformRatesChange | None = None
    facebook: PlatformRatesChange | None = None
    other: PlatformRatesChange | None = None


@router.get("/emv-rates", response_model=EmvRates)
async def get_emv_rates(pool: PoolDep, caller: Reader) -> EmvRates:
    """The rates EMV is valued at: the organization's own, defaults (with their sources in
    docs/insights.md) for the rest."""
    return await handlers.emv_rates(pool, caller)


@router.put("/emv-rates", response_model=EmvRates)
async def put_emv_rates(pool: PoolDep, caller: Manager, body: EmvRatesChange) -> EmvRates:
    """Change some or all rates; every screen values EMV at the new rates at once. Rates are
    numbers ≥ 0, else 422 naming the field (`body.tiktok.per_like`)."""
    changes: dict[str, Any] = body.model_dump(exclude_unset=True)
    return await handlers.change_emv_rates(pool, caller, changes)
