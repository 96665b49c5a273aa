"""alerter's internal routes: alerts (list, read with history, resolve one or many by hand) and
notification channels with their delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response

from pulse_contracts import utcnow
from pulse_contracts.internal.alerter import (
    AlertPage,
    AlertWithHistory,
    BulkResolveAnswer,
    BulkResolveRequest,
    Channel,
    ChannelIn,
    ChannelPage,
    ChannelPatch,
    CreatedChannel,
    Delivery,
    DeliveryPage,
    ResolveRequest,
)
from pulse_contracts.values import AlertType, Severity
from pulse_runtime.db import PoolGetter
from pulse_runtime.errors import ApiError
from pulse_runtime.http import internal_router
from pulse_runtime.logging import current_correlation_id

from . import evaluation, notifier, repository
from . import notify_repository as notify_repo
from .notifications import mask_target


def internal_routes(pool: PoolGetter, service_token: str) -> APIRouter:
    router = internal_router(service_token, prefix="/internal/orgs/{org_id}", tags=["internal"])

    @router.get("/alerts", response_model=AlertPage)
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

    @router.get("/alerts/{alert_id}", response_model=AlertWithHistory)
    async def get_alert(org_id: UUID, alert_id: UUID) -> dict[str, Any]:
        async with pool().acquire() as conn:
            alert = await repository.get_alert(conn, org_id=org_id, alert_id=alert_id)
        if alert is None:
            raise ApiError(404, f"no alert {alert_id}")
        return alert

    @router.post("/alerts/{alert_id}/resolve", response_model=AlertWithHistory)
    async def resolve(org_id: UUID, alert_id: UUID, body: ResolveRequest) -> dict[str, Any]:
        return await evaluation.resolve_by_user(
            pool(),
            org_id=org_id,
            alert_id=alert_id,
            user_id=body.user_id,
            note=body.note,
            now=utcnow(),
            correlation_id=current_correlation_id(),
        )

    @router.post("/alerts/resolve", response_model=BulkResolveAnswer)
    async def resolve_many(org_id: UUID, body: BulkResolveRequest) -> dict[str, Any]:
        """All or nothing on ownership: when any id is not an alert of this organization
        (another organization's answers exactly like a missing one), nothing is resolved and
        the 404 names each such id; otherwise every alert is resolved with the same note."""
        ids = list(dict.fromkeys(body.ids))
        was_open: dict[UUID, bool] = {}
        missing: list[dict[str, Any]] = []
        async with pool().acquire() as conn:
            for index, alert_id in enumerate(ids):
                found = await repository.get_alert(conn, org_id=org_id, alert_id=alert_id)
                if found is None:
                    missing.append({"path": f"ids.{index}", "id": str(alert_id)})
                else:
                    was_open[alert_id] = found["status"] == "open"
        if missing:
            raise ApiError(
                404,
                f"{len(missing)} of these alerts do not exist; none was resolved",
                details=missing,
            )
        items = []
        for alert_id in ids:
            # Alerts are never deleted, so every id checked above is still there to resolve.
            alert = await evaluation.resolve_by_user(
                pool(),
                org_id=org_id,
                alert_id=alert_id,
                user_id=body.user_id,
                note=body.note,
                now=utcnow(),
                correlation_id=current_correlation_id(),
            )
            result = "resolved" if was_open[alert_id] else "already_resolved"
            items.append({"id": alert_id, "result": result, "alert": alert})
        return {"items": items}

    return router


def notification_routes(
    pool: PoolGetter, service_token: str, config: notifier.NotifyConfig
) -> APIRouter:
    """Channels of an organization and each channel's delivery log."""
    router = internal_router(
        service_token, prefix="/internal/orgs/{org_id}/notification-channels", tags=["internal"]
    )

    @router.get("", response_model=ChannelPage)
    async def list_channels(
        org_id: UUID,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        async with pool().acquire() as conn:
            rows = await notify_repo.list_channels(
                conn, org_id=org_id, after=_cursor(cursor), limit=limit + 1
            )
        return _page([_shown(r) for r in rows], limit, "created_at")

    @router.post("", response_model=CreatedChannel, status_code=201)
    async def create_channel(org_id: UUID, body: ChannelIn) -> dict[str, Any]:
        """The answer holds the whole target and, for webhooks, the signing secret: the only
        time either is shown."""
        return await notifier.create_channel(
            pool(), config, org_id=org_id, values=body.model_dump()
        )

    @router.get("/{channel_id}", response_model=Channel)
    async def get_channel(org_id: UUID, channel_id: UUID) -> dict[str, Any]:
        async with pool().acquire() as conn:
            row = await notify_repo.get_channel(conn, org_id=org_id, channel_id=channel_id)
        if row is None:
            raise ApiError(404, f"no notification channel {channel_id}")
        return _shown(row)

    @router.patch("/{channel_id}", response_model=Channel)
    async def update_channel(org_id: UUID, channel_id: UUID, body: ChannelPatch) -> dict[str, Any]:
        row = await notifier.update_channel(
            pool(),
            config,
            org_id=org_id,
            channel_id=channel_id,
            changes=body.model_dump(exclude_unset=True),
        )
        return _shown(row)

    @router.delete("/{channel_id}", status_code=204)
    async def delete_channel(org_id: UUID, channel_id: UUID) -> Response:
        async with pool().acquire() as conn:
            if not await notify_repo.delete_channel(conn, org_id=org_id, channel_id=channel_id):
                raise ApiError(404, f"no notification channel {channel_id}")
        return Response(status_code=204)

    @router.post("/{channel_id}/test", response_model=Delivery, status_code=202)
    async def send_test(org_id: UUID, channel_id: UUID) -> dict[str, Any]:
        """Queue a test delivery; follow it in the channel's delivery log."""
        return await notifier.send_test(pool(), config, org_id=org_id, channel_id=channel_id)

    @router.get("/{channel_id}/deliveries", response_model=DeliveryPage)
    async def list_deliveries(
        org_id: UUID,
        channel_id: UUID,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """Newest first: status, attempts, next attempt, last error and status code."""
        async with pool().acquire() as conn:
            if await notify_repo.get_channel(conn, org_id=org_id, channel_id=channel_id) is None:
                raise ApiError(404, f"no notification channel {channel_id}")
            rows = await notify_repo.list_deliveries(
                conn, org_id=org_id, channel_id=channel_id, before=_cursor(cursor), limit=limit + 1
            )
        return _page(rows, limit, "created_at")

    return router


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    return {**row, "target": mask_target(row["kind"], row["target"])}


def _page(items: list[dict[str, Any]], limit: int, key: str) -> dict[str, Any]:
    """`{"items", "next_cursor"}` from a page fetched with limit + 1 rows."""
    more = len(items) > limit
    items = items[:limit]
    last = items[-1] if items else None
    next_cursor = f"{last[key].isoformat()}|{last['id']}" if more and last else None
    return {"items": items, "next_cursor": next_cursor}


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
