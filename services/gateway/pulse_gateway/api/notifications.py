"""/api/notification-channels: where the organization's alerts are sent (webhooks, email) and
the log of every delivery. The alerter owns them; the gateway checks who may do what.

Reads are open to every reader: whoever triages alerts needs to see whether the team was
told and why a delivery failed. Changes and test sends need a manager, like every other
piece of the agency's set-up. Webhook URLs are often credentials (Slack, Teams), so like the
signing secret they are shown whole only in the answer that created the channel.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel, ConfigDict, Field

from pulse_contracts.values import Severity

from .. import peers
from ..deps import ContextDep, Manager, Reader

router = APIRouter(prefix="/api/notification-channels", tags=["notifications"])
ChannelKind = Literal["webhook", "email"]
WebhookFormat = Literal["json", "slack"]


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ChannelKind
    name: str = Field(min_length=1, max_length=200)
    target: str = Field(
        min_length=3, max_length=2048, description="https:// webhook URL, or an email address"
    )
    format: WebhookFormat = Field(default="json", description="webhooks: json or slack")
    min_severity: Severity = "warning"
    enabled: bool = True


class ChannelPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    target: str | None = Field(default=None, min_length=3, max_length=2048)
    format: WebhookFormat | None = None
    min_severity: Severity | None = None
    enabled: bool | None = None


class ChannelOut(BaseModel):
    id: UUID
    kind: ChannelKind
    name: str
    target: str
    format: WebhookFormat
    min_severity: Severity
    enabled: bool
    created_at: datetime
    updated_at: datetime


class CreatedChannel(ChannelOut):
    signing_secret: str | None = Field(
        description="webhooks: key of X-Pulse-Signature (HMAC-SHA256 over '<t>.<body>'); "
        "shown only now"
    )


class ChannelPage(BaseModel):
    items: list[ChannelOut]
    next_cursor: str | None


class DeliveryOut(BaseModel):
    id: UUID
    channel_id: UUID
    event_id: UUID | None
    alert_id: UUID | None
    event_type: Literal["alert.raised", "alert.resolved", "test"]
    severity: Severity
    payload: dict[str, Any]
    status: Literal["pending", "delivered", "failed"]
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    last_status_code: int | None
    created_at: datetime
    delivered_at: datetime | None


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


Limit = Annotated[int, Query(ge=1, le=200)]
Cursor = Annotated[str | None, Query(max_length=200)]


def _page(limit: int, cursor: str | None) -> dict[str, str]:
    return {"limit": str(limit), **({"cursor": cursor} if cursor else {})}


@router.get("", response_model=ChannelPage)
async def list_channels(
    ctx: ContextDep, caller: Reader, limit: Limit = 50, cursor: Cursor = None
) -> Any:
    return await peers.notification_channels(ctx, caller.org_id, "GET", params=_page(limit, cursor))


@router.post("", response_model=CreatedChannel, status_code=201)
async def create_channel(ctx: ContextDep, caller: Manager, body: ChannelIn) -> Any:
    """The answer is the only one with the whole webhook URL and its signing secret."""
    return await peers.notification_channels(
        ctx, caller.org_id, "POST", json=body.model_dump(mode="json")
    )


@router.get("/{channel_id}", response_model=ChannelOut)
async def get_channel(ctx: ContextDep, caller: Reader, channel_id: UUID) -> Any:
    return await peers.notification_channels(ctx, caller.org_id, "GET", f"/{channel_id}")


@router.patch("/{channel_id}", response_model=ChannelOut)
async def update_channel(
    ctx: ContextDep, caller: Manager, channel_id: UUID, body: ChannelPatch
) -> Any:
    return await peers.notification_channels(
        ctx,
        caller.org_id,
        "PATCH",
        f"/{channel_id}",
        json=body.model_dump(mode="json", exclude_unset=True),
    )


@router.delete("/{channel_id}", status_code=204)
async def delete_channel(ctx: ContextDep, caller: Manager, channel_id: UUID) -> Response:
    """The channel and its delivery log go together."""
    await peers.notification_channels(ctx, caller.org_id, "DELETE", f"/{channel_id}")
    return Response(status_code=204)


@router.post("/{channel_id}/test", response_model=DeliveryOut, status_code=202)
async def send_test(ctx: ContextDep, caller: Manager, channel_id: UUID) -> Any:
    """Queue a test message to the channel; the delivery log shows how it went."""
    return await peers.notification_channels(ctx, caller.org_id, "POST", f"/{channel_id}/test")


@router.get("/{channel_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    ctx: ContextDep, caller: Reader, channel_id: UUID, limit: Limit = 50, cursor: Cursor = None
) -> Any:
    """Newest first: status, attempts, next attempt, last error and status code."""
    return await peers.notification_channels(
        ctx, caller.org_id, "GET", f"/{channel_id}/deliveries", params=_page(limit, cursor)
    )
