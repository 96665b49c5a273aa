"""An organization's settings: alert thresholds, read with their defaults and changed in part;
its API rate limit."""

from __future__ import annotations

from typing import Any

import asyncpg
from pydantic import ValidationError

from pulse_contracts.alerts import ALERT_THRESHOLDS_KEY, AlertThresholds
from pulse_contracts.catalog import OrganizationUpserted
from pulse_runtime.db import Connection
from pulse_runtime.errors import NotFound
from pulse_runtime.rate_limit import WINDOW_S

from ..db import org_transaction, record
from ..deps import Principal
from ..repository import organizations as repo
from .fields import invalid_fields


async def alert_thresholds(pool: asyncpg.Pool, caller: Principal) -> AlertThresholds:
    async with org_transaction(pool, caller.org_id) as conn:
        org = await repo.get_organization(conn, org_id=caller.org_id)
    if org is None:
        raise NotFound("no such organization")
    return AlertThresholds.of_settings(org["settings"])


async def change_alert_thresholds(
    pool: asyncpg.Pool, caller: Principal, changes: dict[str, Any]
) -> AlertThresholds:
    """Merge `changes` into the stored thresholds and validate the whole; a key set to null
    goes back to its default. Only overrides are stored, so a default changed in a later
    release reaches every organization that never chose its own value."""
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_organization(conn, org_id=caller.org_id)
        if before is None:
            raise NotFound("no such organization")
        stored = dict(before["settings"].get(ALERT_THRESHOLDS_KEY) or {})
        for key, value in changes.items():
            if value is None:
                stored.pop(key, None)
            else:
                stored[key] = value
        thresholds = _validated(stored)
        settings = {
            **before["settings"],
            ALERT_THRESHOLDS_KEY: thresholds.model_dump(mode="json", exclude_unset=True),
        }
        await save_settings(conn, caller, before, settings)
    return thresholds


def _validated(values: dict[str, Any]) -> AlertThresholds:
    try:
        return AlertThresholds.model_validate(values)
    except ValidationError as exc:
        raise invalid_fields(exc, _field) from exc


def _field(err: Any) -> str:
    """The field an error is about; a rule across fields names the field its message starts
    with (e.g. "deadline_critical_days must not exceed deadline_warning_days")."""
    if err["loc"]:
        return ".".join(str(p) for p in err["loc"])
    words = str(err["msg"]).removeprefix("Value error, ").split()
    first = words[0] if words else ""
    return first if first in AlertThresholds.model_fields else "alert_thresholds"


async def api_limit(pool: asyncpg.Pool, caller: Principal, default: int) -> dict[str, Any]:
    """The API rate limit in force for each person of the organization, and whose it is."""
    async with org_transaction(pool, caller.org_id) as conn:
        own = await repo.api_limit(conn, org_id=caller.org_id)
    return _api_limit(own, default)


async def change_api_limit(
    pool: asyncpg.Pool, caller: Principal, requests_per_minute: int | None, default: int
) -> dict[str, Any]:
    """Set the organization's own limit; None goes back to the gateway's default."""
    async with org_transaction(pool, caller.org_id) as conn:
        before = await repo.get_organization(conn, org_id=caller.org_id)
        if before is None:
            raise NotFound("no such organization")
        before["api_requests_per_minute"] = await repo.api_limit(conn, org_id=caller.org_id)
        after = await repo.update_api_limit(
            conn, org_id=caller.org_id, requests_per_minute=requests_per_minute
        )
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="update",
            entity="organization",
            entity_id=caller.org_id,
            before=before,
            after=after,
            event=None,  # only the gateway enforces it: no other service keeps a copy
        )
    return _api_limit(after["api_requests_per_minute"], default)


def _api_limit(own: int | None, default: int) -> dict[str, Any]:
    return {
        "requests_per_minute": own or default,
        "organization_value": own,
        "default": default,
        "window_s": WINDOW_S,
    }


async def save_settings(
    conn: Connection, caller: Principal, before: dict[str, Any], settings: dict[str, Any]
) -> dict[str, Any]:
    """Store the organization's whole settings document, audit the change and tell the other
    services (they keep copies: the alerter its thresholds, share the EMV rates)."""
    after = await repo.update_settings(conn, org_id=caller.org_id, settings=settings)
    await record(
        conn,
        org_id=caller.org_id,
        actor=caller.actor,
        action="update",
        entity="organization",
        entity_id=caller.org_id,
        before=before,
        after=after,
        event=OrganizationUpserted(
            id=after["id"],
            name=after["name"],
            is_test=after["is_test"],
            settings=after["settings"],
            updated_at=after["updated_at"],
        ),
    )
    return after
