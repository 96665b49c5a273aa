"""An organization's earned media value rates: read with their defaults, changed in part.

They live in the organization's settings (beside the alert thresholds), so a change travels in
catalog.organization.upserted to share, which values a link's campaign only when it opted in.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import ValidationError

from pulse_contracts.emv import DEFAULT_CURRENCY, DEFAULT_RATES, EMV_RATES_KEY, EmvRates
from pulse_runtime.db import Connection
from pulse_runtime.errors import NotFound

from ..db import org_transaction
from ..deps import Principal
from ..repository import organizations as repo
from .fields import invalid_fields
from .organizations import save_settings


async def emv_rates(pool: asyncpg.Pool, caller: Principal) -> EmvRates:
    async with org_transaction(pool, caller.org_id) as conn:
        return await rates_of(conn, caller)


async def rates_of(conn: Connection, caller: Principal) -> EmvRates:
    """The rates in force (the organization's own over the defaults), in an open transaction."""
    return EmvRates.merged(await repo.emv_rates(conn, org_id=caller.org_id))


async def change_emv_rates(
    pool: asyncpg.Pool, caller: Principal, changes: dict[str, Any]
) -> EmvRates:
    """Merge `changes` ({currency, <platform>: {<metric>: rate}}) into the stored rates and
    validate the whole; null puts a rate (or the currency) back to its default. Only values
    that differ from the default are stored, so a better default later reaches everyone who
    never chose their own."""
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_organization(conn, org_id=caller.org_id)
        if before is None:
            raise NotFound("no such organization")
        stored: dict[str, Any] = dict(before["settings"].get(EMV_RATES_KEY) or {})
        for key, value in changes.items():
            if isinstance(value, dict):
                own = dict(stored.get(key) or {})
                for metric, rate in value.items():
                    own[metric] = rate
                stored[key] = own
            else:
                stored[key] = value
        rates = validated(_without_nulls(stored))
        settings = {**before["settings"], EMV_RATES_KEY: _overrides(rates)}
        await save_settings(conn, caller, before, settings)
    return rates


def _without_nulls(stored: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in stored.items():
        if isinstance(value, dict):
            out[key] = {m: r for m, r in value.items() if r is not None}
        elif value is not None:
            out[key] = value
    return out


def _overrides(rates: EmvRates) -> dict[str, Any]:
    own: dict[str, Any] = {}
    if rates.currency != DEFAULT_CURRENCY:
        own["currency"] = rates.currency
    for platform, default in DEFAULT_RATES.items():
        chosen = rates.of(platform).model_dump()
        changed = {m: r for m, r in chosen.items() if r != getattr(default, m)}
        if changed:
            own[platform] = changed
    return own


def validated(values: dict[str, Any]) -> EmvRates:
    """The rates, or a 422 naming each bad field as `body.<platform>.<metric>`."""
    try:
        return EmvRates.merged(values)
    except ValidationError as exc:
        raise invalid_fields(exc) from exc
