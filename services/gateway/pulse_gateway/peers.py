"""What the gateway asks the aggregator, alerter and ingest over internal HTTP: alerts, pull
status, sample history, and a numbers document only when its own read model lacks one.

A peer that is down or slow becomes a clear 503 naming it; a peer's 404 stays a 404.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import httpx

from pulse_runtime.errors import ApiError
from pulse_runtime.logging import current_correlation_id

from .context import GatewayContext


async def _call(
    ctx: GatewayContext,
    peer: str,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    json: Any = None,
    missing_ok: bool = False,
) -> Any:
    base = {
        "aggregator": ctx.settings.aggregator_url,
        "alerter": ctx.settings.alerter_url,
        "ingest": ctx.settings.ingest_url,
        "reporter": ctx.settings.reporter_url,
    }[peer]
    try:
        response = await ctx.http.request(
            method,
            f"{base}{path}",
            params=params,
            json=json,
            headers={"X-Request-ID": current_correlation_id()},
        )
    except httpx.HTTPError as exc:
        raise ApiError(503, f"the {peer} service is unavailable; try again shortly") from exc
    if response.status_code == 404:
        if missing_ok:
            return None
        error = response.json().get("error", {})
        raise ApiError(404, error.get("message", "not found"), details=error.get("details"))
    if response.status_code in (400, 409, 422):  # the caller's mistake, in the peer's words
        error = response.json().get("error", {})
        raise ApiError(
            response.status_code,
            error.get("message", "invalid request"),
            details=error.get("details"),
        )
    if response.status_code >= 400:
        raise ApiError(503, f"the {peer} service answered {response.status_code}")
    if response.status_code == 204:
        return None
    return response.json()


def _org(org_id: UUID) -> str:
    return f"/internal/orgs/{org_id}"


async def campaign_numbers(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID
) -> dict[str, Any] | None:
    """The aggregator's copy of the campaign's number document (the read model's backfill),
    or None before its first computation."""
    result: dict[str, Any] | None = await _call(
        ctx, "aggregator", "GET", f"{_org(org_id)}/campaigns/{campaign_id}/numbers", missing_ok=True
    )
    return result


async def daily(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID, influencer_id: UUID | None
) -> list[dict[str, Any]]:
    params = {"influencer_id": str(influencer_id)} if influencer_id else None
    body = await _call(
        ctx,
        "aggregator",
        "GET",
        f"{_org(org_id)}/campaigns/{campaign_id}/daily",
        params=params,
        missing_ok=True,
    )
    return body["items"] if body else []


async def post_samples(
    ctx: GatewayContext, org_id: UUID, post_id: UUID, *, limit: int, cursor: str | None
) -> dict[str, Any]:
    params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
    result: dict[str, Any] = await _call(
        ctx, "ingest", "GET", f"{_org(org_id)}/posts/{post_id}/samples", params=params
    )
    return result


async def alerts(ctx: GatewayContext, org_id: UUID, params: dict[str, str]) -> dict[str, Any]:
    result: dict[str, Any] = await _call(
        ctx, "alerter", "GET", f"{_org(org_id)}/alerts", params=params
    )
    return result


async def alert(ctx: GatewayContext, org_id: UUID, alert_id: UUID) -> dict[str, Any]:
    result: dict[str, Any] = await _call(ctx, "alerter", "GET", f"{_org(org_id)}/alerts/{alert_id}")
    return result


async def resolve_alert(
    ctx: GatewayContext, org_id: UUID, alert_id: UUID, *, user_id: UUID | None, note: str | None
) -> dict[str, Any]:
    result: dict[str, Any] = await _call(
        ctx,
        "alerter",
        "POST",
        f"{_org(org_id)}/alerts/{alert_id}/resolve",
        json={"user_id": str(user_id) if user_id else None, "note": note},
    )
    return result


async def resolve_alerts(
    ctx: GatewayContext,
    org_id: UUID,
    alert_ids: Sequence[UUID],
    *,
    user_id: UUID | None,
    note: str | None,
) -> dict[str, Any]:
    result: dict[str, Any] = await _call(
        ctx,
        "alerter",
        "POST",
        f"{_org(org_id)}/alerts/resolve",
        json={
            "ids": [str(i) for i in alert_ids],
            "user_id": str(user_id) if user_id else None,
            "note": note,
        },
    )
    return result


async def notification_channels(
    ctx: GatewayContext,
    org_id: UUID,
    method: str,
    path: str = "",
    *,
    params: dict[str, str] | None = None,
    json: Any = None,
) -> Any:
    """The alerter owns notification channels and their delivery log; `path` is below
    /notification-channels."""
    return await _call(
        ctx,
        "alerter",
        method,
        f"{_org(org_id)}/notification-channels{path}",
        params=params,
        json=json,
    )


async def pull_status(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID
) -> dict[UUID, dict[str, Any]]:
    """Ingest's view of each tracked post's pulls: status, last success, last error."""
    body = await _call(ctx, "ingest", "GET", f"{_org(org_id)}/campaigns/{campaign_id}/pull-status")
    return {UUID(item["post_id"]): item for item in body["items"]}


async def ingest_items(
    ctx: GatewayContext, org_id: UUID, items: list[dict[str, Any]]
) -> dict[str, Any]:
    """Hand samples (CSV imports) to ingest, the only writer of samples."""
    result: dict[str, Any] = await _call(
        ctx, "ingest", "POST", f"{_org(org_id)}/items", json={"items": items}
    )
    return result


async def refused_messages(ctx: GatewayContext) -> dict[str, Any]:
    """Ingest's count of AMQP messages refused for a missing or unknown x-pulse-key: they
    belong to no organization, so this count is the only place staff see them."""
    result: dict[str, Any] = await _call(
        ctx, "ingest", "GET", "/internal/operator/refused-messages", params={"limit": "0"}
    )
    return result


async def report_schedule(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID, method: str, json: Any = None
) -> Any:
    """The reporter's schedule of the campaign's client report and its delivery log."""
    path = f"{_org(org_id)}/campaigns/{campaign_id}/report-schedule"
    return await _call(ctx, "reporter", method, path, json=json)


async def hashtags(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID, params: dict[str, str]
) -> dict[str, Any]:
    """The campaign's top hashtags and mentions from the aggregator's rollup, which alone has
    each post's tags beside its latest figures (docs/insights.md)."""
    result: dict[str, Any] = await _call(
        ctx, "aggregator", "GET", f"{_org(org_id)}/campaigns/{campaign_id}/hashtags", params=params
    )
    return result


async def benchmark_accounts(
    ctx: GatewayContext, org_id: UUID, account_ids: Sequence[UUID]
) -> dict[UUID, dict[str, Any]]:
    """Ingest's status and rollup of each benchmark account (it pulls them daily)."""
    if not account_ids:
        return {}
    params = {"ids": ",".join(str(a) for a in account_ids)}
    body = await _call(ctx, "ingest", "GET", f"{_org(org_id)}/benchmark-accounts", params=params)
    return {UUID(item["id"]): item for item in body["items"]}


async def benchmark_tags(
    ctx: GatewayContext, org_id: UUID, account_ids: Sequence[UUID], limit: int
) -> dict[str, Any]:
    """The top hashtags and mentions of benchmark accounts' recent posts (ingest's rollup)."""
    if not account_ids:
        return {"hashtags": [], "mentions": []}
    params = {"ids": ",".join(str(a) for a in account_ids), "limit": str(limit)}
    result: dict[str, Any] = await _call(
        ctx, "ingest", "GET", f"{_org(org_id)}/benchmark-tags", params=params
    )
    return result
