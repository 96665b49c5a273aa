"""/api/notification-channels: where the organization's alerts are sent (webhooks, email) and
the log of every delivery. The alerter owns them; the gateway checks who may do what.

Reads are open to every reader: whoever triages alerts needs to see whether the team was
told and why a delivery failed. Changes and test sends need a manager, like every other
piece of the agency's set-up. Webhook URLs are often credentials (Slack, Teams), so like the
signing secret they are shown whole only in the answer that created the channel.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query, Response

from pulse_contracts.internal.alerter import (
    Channel,
    ChannelIn,
    ChannelPage,
    ChannelPatch,
    CreatedChannel,
    Delivery,
    DeliveryPage,
)

from .. import peers
from ..deps import ContextDep, Manager, Reader

router = APIRouter(prefix="/api/notification-channels", tags=["notifications"])
Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=200)]


def _page(limit: int, cursor: str | None) -> dict[str, str]:
    return {"limit": str(limit), **({"cursor": cursor} if cursor else {})}


@router.get("")
async def list_channels(
    ctx: ContextDep, caller: Reader, limit: Limit = 50, cursor: Cursor = None
) -> ChannelPage:
    return await peers.channels(ctx, caller.org_id, _page(limit, cursor))


@router.post("", status_code=201)
async def create_channel(ctx: ContextDep, caller: Manager, body: ChannelIn) -> CreatedChannel:
    """The answer is the only one with the whole webhook URL and its signing secret."""
    return await peers.create_channel(ctx, caller.org_id, body)


@router.get("/{channel_id}")
async def get_channel(ctx: ContextDep, caller: Reader, channel_id: UUID) -> Channel:
    return await peers.channel(ctx, caller.org_id, channel_id)


@router.patch("/{channel_id}")
async def update_channel(
    ctx: ContextDep, caller: Manager, channel_id: UUID, body: ChannelPatch
) -> Channel:
    return await peers.update_channel(ctx, caller.org_id, channel_id, body)


@router.delete("/{channel_id}", status_code=204)
async def delete_channel(ctx: ContextDep, caller: Manager, channel_id: UUID) -> Response:
    """The channel and its delivery log go together."""
    await peers.delete_channel(ctx, caller.org_id, channel_id)
    return Response(status_code=204)


@router.post("/{channel_id}/test", status_code=202)
async def send_test(ctx: ContextDep, caller: Manager, channel_id: UUID) -> Delivery:
    """Queue a test message to the channel; the delivery log shows how it went."""
    return await peers.send_test(ctx, caller.org_id, channel_id)


@router.get("/{channel_id}/deliveries")
async def list_deliveries(
    ctx: ContextDep, caller: Reader, channel_id: UUID, limit: Limit = 50, cursor: Cursor = None
) -> DeliveryPage:
    """Newest first: status, attempts, next attempt, last error and status code."""
    return await peers.deliveries(ctx, caller.org_id, channel_id, _page(limit, cursor))
