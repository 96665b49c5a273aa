"""/settings/notifications: where alerts are sent (mail, webhooks), with a test send and the
recent deliveries, over the alerter's channels (peers.py)."""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from fastapi import Request, Response

from pulse_contracts.internal.alerter import ChannelIn, ChannelPage, DeliveryPage
from pulse_runtime.errors import ApiError

from .. import peers
from ..deps import ContextDep
from .common import Viewer, ViewerDep, optional, page_router, render
from .forms_support import (
    FormInvalid,
    error_status,
    form_fields,
    handler_errors,
    require_manager,
    validate,
)
from .settings import SEVERITIES, settings_page

router = page_router()


async def _notifications_view(ctx: ContextDep, viewer: Viewer) -> dict[str, Any]:
    org_id = viewer.principal.org_id
    notices: list[str] = []
    channels = await optional(
        peers.channels(ctx, org_id, {"limit": "100"}),
        ChannelPage(items=[], next_cursor=None),
        notices,
    )
    logs = await asyncio.gather(
        *(
            optional(
                peers.deliveries(ctx, org_id, c.id, {"limit": "10"}),
                DeliveryPage(items=[], next_cursor=None),
                notices,
            )
            for c in channels.items
        )
    )
    deliveries = sorted(
        (
            {**d.model_dump(), "channel_name": c.name}
            for c, log in zip(channels.items, logs, strict=True)
            for d in log.items
        ),
        key=lambda d: d["created_at"],
        reverse=True,
    )[:30]
    return {
        "channels": channels.items,
        "deliveries": deliveries,
        "notices": sorted(set(notices)),
        "errors": {},
        "values": {"kind": "webhook", "format": "slack", "min_severity": "warning"},
        "created": None,
        "done": None,
        "severities": SEVERITIES,
    }


@router.get("/settings/notifications")
async def notifications_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    """Where alerts are sent and how each delivery went (the alerter owns both)."""
    return render(request, "settings/notifications.html", **await _notifications_view(ctx, viewer))


def _notifications(request: Request, view: dict[str, Any], status: int = 200) -> Response:
    return settings_page(
        request,
        "settings/notifications.html",
        "settings/notifications_body.html",
        status,
        **view,
    )


@router.post("/settings/notifications/new")
async def create_channel(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    """The same call as POST /api/notification-channels: the whole webhook URL and its signing
    secret are in this answer only."""
    require_manager(viewer)
    values = await form_fields(request)
    view = await _notifications_view(ctx, viewer)
    payload = {
        "kind": values.get("kind", ""),
        "name": values.get("name", ""),
        "target": values.get("target", ""),
        "format": values.get("format") or "json",
        "min_severity": values.get("min_severity") or "warning",
    }
    try:
        body = validate(ChannelIn, payload, {})
        created = await peers.create_channel(ctx, viewer.principal.org_id, body)
    except FormInvalid as exc:
        view.update(errors=exc.errors, values=values)
        return _notifications(request, view, error_status(request))
    except ApiError as exc:
        if exc.status != 422:
            raise
        view.update(errors=handler_errors(exc), values=values)
        return _notifications(request, view, error_status(request))
    view = await _notifications_view(ctx, viewer)
    view["created"] = created
    return _notifications(request, view)


@router.post("/settings/notifications/{channel_id}/test")
async def test_channel(
    request: Request, ctx: ContextDep, viewer: ViewerDep, channel_id: UUID
) -> Response:
    require_manager(viewer)
    await peers.send_test(ctx, viewer.principal.org_id, channel_id)
    view = await _notifications_view(ctx, viewer)
    view["done"] = "Test message queued: its delivery appears below within seconds."
    return _notifications(request, view)


@router.post("/settings/notifications/{channel_id}/delete")
async def delete_channel(
    request: Request, ctx: ContextDep, viewer: ViewerDep, channel_id: UUID
) -> Response:
    require_manager(viewer)
    await peers.delete_channel(ctx, viewer.principal.org_id, channel_id)
    view = await _notifications_view(ctx, viewer)
    view["done"] = "Channel removed, with its delivery log."
    return _notifications(request, view)
