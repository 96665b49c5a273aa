"""alerter's internal routes: list alerts, read one with its history, resolve by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field

from pulse_contracts import utcnow
from pulse_contracts.values import AlertType, Severity
from pulse_runtime.errors import ApiError
from pulse_runtime.http import internal_router
from pulse_runtime.logging import current_correlation_id

from . import handlers, repository

PoolGetter = Callable[[], asyncpg.Pool]


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: str | None = Field(default=None, max_length=2000)
    user_id: UUID | None = None


def internal_routes(pool: PoolGetter, service_token: str) -> APIRouter:
    router = internal_router(service_token, prefix="/internal/orgs/{org_id}", tags=["internal"])

    @router.get("/alerts")
    async def list_alerts(
        org_id: UUID,
        status: Literal["open", "resolved"] | None = None,
        type: AlertType | None = None,
        severity: Severity | None = None,
        campaign_id: UUID | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """Newest first; `cursor` is the `next_cursor` of the previous page."""
        async with pool().acquire() as conn:
            items = await repository.list_alerts(
                conn,
                org_id=org_id,
                status=status,
                type=type,
                severity=severity,
                campaign_id=campaign_id,
                after=_cursor(cursor),
                limit=limit,
            )
        next_cursor = (
            f"{items[-1]['raised_at'].isoformat()}|{items[-1]['id']}"
            if len(items) == limit
            else None
        )
        return {"items": items, "next_cursor": next_cursor}

    @router.get("/alerts/{alert_id}")
    async def get_alert(org_id: UUID, alert_id: UUID) -> dict[str, Any]:
        async with pool().acquire() as conn:
            alert = await repository.get_alert(conn, org_id=org_id, alert_id=alert_id)
        if alert is None:
            raise ApiError(404, f"no alert {alert_id}")
        return alert

    @router.post("/alerts/{alert_id}/resolve")
    async def resolve(org_id: UUID, alert_id: UUID, body: ResolveRequest) -> dict[str, Any]:
        return await handlers.resolve_by_user(
            pool(),
            org_id=org_id,
            alert_id=alert_id,
            user_id=body.user_id,
            note=body.note,
            now=utcnow(),
            correlation_id=current_correlation_id(),
        )

    return router


def _cursor(raw: str | None) -> tuple[datetime, UUID] | None:
    if not raw:
        return None
    try:
        at, _, alert_id = raw.partition("|")
        return datetime.fromisoformat(at), UUID(alert_id)
    except ValueError as exc:
        raise ApiError(
            422, "cursor is not one this API returned", details=[{"path": "cursor"}]
        ) from exc
