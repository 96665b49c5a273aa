"""The share service's internal API, for the staff routes that create, list and revoke links.

Like peers.py: a share service that is down or slow becomes a clear 503, its 404 stays a 404,
its 422 keeps the fields it names.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

import httpx

from pulse_runtime.errors import ApiError
from pulse_runtime.logging import current_correlation_id

from .context import GatewayContext


def _error(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


async def _call(
    ctx: GatewayContext,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    json: Any = None,
) -> Any:
    try:
        response = await ctx.http.request(
            method,
            f"{ctx.settings.share_url}{path}",
            params=params,
            json=json,
            headers={"X-Request-ID": current_correlation_id()},
        )
    except httpx.HTTPError as exc:
        raise ApiError(503, "the share service is unavailable; try again shortly") from exc
    if response.status_code == 404:
        raise ApiError(404, _error(response).get("message", "not found"))
    if response.status_code == 422:
        error = _error(response)
        raise ApiError(422, error.get("message", "invalid request"), details=error.get("details"))
    if response.status_code >= 400:
        raise ApiError(503, f"the share service answered {response.status_code}")
    return response.json()


def _org(org_id: UUID) -> str:
    return f"/internal/orgs/{org_id}"


async def create_link(
    ctx: GatewayContext,
    org_id: UUID,
    campaign_id: UUID,
    *,
    created_by: UUID | None,
    expires_at: datetime | None,
    password: str | None,
    show_forecast: bool = False,
    show_emv: bool = False,
) -> dict[str, Any]:
    """The new link with its token: the only answer that ever carries it."""
    result: dict[str, Any] = await _call(
        ctx,
        "POST",
        f"{_org(org_id)}/share-links",
        json={
            "campaign_id": str(campaign_id),
            "created_by": str(created_by) if created_by else None,
            "expires_at": expires_at.isoformat() if expires_at else None,
            "password": password,
            "show_forecast": show_forecast,
            "show_emv": show_emv,
        },
    )
    return result


async def list_links(ctx: GatewayContext, org_id: UUID, campaign_id: UUID) -> list[dict[str, Any]]:
    body = await _call(ctx, "GET", f"{_org(org_id)}/campaigns/{campaign_id}/share-links")
    items: list[dict[str, Any]] = body["items"]
    return items


async def revoke_link(ctx: GatewayContext, org_id: UUID, link_id: UUID) -> dict[str, Any]:
    """Revoked for the organization's own links only: another's answers 404 like a missing one."""
    result: dict[str, Any] = await _call(ctx, "DELETE", f"{_org(org_id)}/share-links/{link_id}")
    return result
