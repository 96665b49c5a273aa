"""The gateway's one client of the other services' internal HTTP routes (aggregator, alerter,
ingest, reporter, share): alerts, pull status, sample history, channels, share links, report
schedules, and a numbers document only when its own read model lacks one.

Every answer is parsed into its model in `pulse_contracts.internal` (or the numbers document),
the same model the serving route declares, so both sides read one contract. A peer that is
down or slow becomes a clear 503 naming it; a peer's 404 stays a 404, and its 400, 409 or 422
keeps its message and the fields it names.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal, TypeVar
from uuid import UUID

import httpx
from pydantic import BaseModel

from pulse_contracts.internal import aggregator, alerter, ingest, ingest_operations, reporter, share
from pulse_contracts.numbers import CampaignNumbers, DailyPoint
from pulse_runtime.errors import ApiError
from pulse_runtime.logging import current_correlation_id

from .context import GatewayContext

Peer = Literal["aggregator", "alerter", "ingest", "reporter", "share"]
Answer = TypeVar("Answer", bound=BaseModel)
# The peer's own words are passed on for these: the caller's mistake, not the peer's trouble.
_CALLER_ERRORS = frozenset({400, 404, 409, 422})


def _base(ctx: GatewayContext, peer: Peer) -> str:
    settings = ctx.settings
    return {
        "aggregator": settings.aggregator_url,
        "alerter": settings.alerter_url,
        "ingest": settings.ingest_url,
        "reporter": settings.reporter_url,
        "share": settings.share_url,
    }[peer]


def _error(response: httpx.Response) -> dict[str, Any]:
    """The peer's `{"error": {...}}`, or nothing when the body is not one (a proxy's page)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


async def call(
    ctx: GatewayContext,
    peer: Peer,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    json: Any = None,
    missing_ok: bool = False,
) -> Any:
    """The peer's JSON answer (None for 204, or for 404 with `missing_ok`). The HTTP client
    (lifespan-owned, in `ctx.http`) carries the service token and the timeouts; this adds the
    request id so one request is traced across services."""
    try:
        response = await ctx.http.request(
            method,
            f"{_base(ctx, peer)}{path}",
            params=params,
            json=json,
            headers={"X-Request-ID": current_correlation_id()},
        )
    except httpx.HTTPError as exc:
        raise ApiError(503, f"the {peer} service is unavailable; try again shortly") from exc
    status = response.status_code
    if status == 404 and missing_ok:
        return None
    if status in _CALLER_ERRORS:
        error = _error(response)
        fallback = "not found" if status == 404 else "invalid request"
        raise ApiError(status, error.get("message", fallback), details=error.get("details"))
    if status >= 400:
        raise ApiError(503, f"the {peer} service answered {status}")
    if status == 204:
        return None
    return response.json()


async def _answer(
    model: type[Answer],
    ctx: GatewayContext,
    peer: Peer,
    method: str,
    path: str,
    *,
    params: dict[str, str] | None = None,
    body: BaseModel | None = None,
    exclude_unset: bool = False,
) -> Answer:
    json = body.model_dump(mode="json", exclude_unset=exclude_unset) if body else None
    return model.model_validate(await call(ctx, peer, method, path, params=params, json=json))


def _org(org_id: UUID) -> str:
    return f"/internal/orgs/{org_id}"


# --- aggregator -------------------------------------------------------------------------------


async def campaign_numbers(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID
) -> CampaignNumbers | None:
    """The aggregator's copy of the campaign's number document as computed (the read model's
    backfill), or None before its first computation. As computed, not brought forward: the
    read model keeps the newest `as_of`, and a read's time would beat a kpi.updated computed
    before it but delivered after it; the read model brings documents forward itself."""
    path = f"{_org(org_id)}/campaigns/{campaign_id}/numbers"
    params = {"as_computed": "true"}
    found = await call(ctx, "aggregator", "GET", path, params=params, missing_ok=True)
    return CampaignNumbers.model_validate(found) if found is not None else None


async def daily(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID, influencer_id: UUID | None
) -> list[DailyPoint]:
    params = {"influencer_id": str(influencer_id)} if influencer_id else None
    path = f"{_org(org_id)}/campaigns/{campaign_id}/daily"
    found = await call(ctx, "aggregator", "GET", path, params=params, missing_ok=True)
    return aggregator.DailySeries.model_validate(found).items if found is not None else []


async def hashtags(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID, params: dict[str, str]
) -> aggregator.TopTags:
    """The campaign's top hashtags and mentions from the aggregator's rollup, which alone has
    each post's tags beside its latest figures (docs/insights.md)."""
    path = f"{_org(org_id)}/campaigns/{campaign_id}/hashtags"
    return await _answer(aggregator.TopTags, ctx, "aggregator", "GET", path, params=params)


# --- alerter ----------------------------------------------------------------------------------


async def alerts(ctx: GatewayContext, org_id: UUID, params: dict[str, str]) -> alerter.AlertPage:
    return await _answer(
        alerter.AlertPage, ctx, "alerter", "GET", f"{_org(org_id)}/alerts", params=params
    )


async def alert(ctx: GatewayContext, org_id: UUID, alert_id: UUID) -> alerter.AlertWithHistory:
    path = f"{_org(org_id)}/alerts/{alert_id}"
    return await _answer(alerter.AlertWithHistory, ctx, "alerter", "GET", path)


async def resolve_alert(
    ctx: GatewayContext, org_id: UUID, alert_id: UUID, *, user_id: UUID | None, note: str | None
) -> alerter.AlertWithHistory:
    path = f"{_org(org_id)}/alerts/{alert_id}/resolve"
    body = alerter.ResolveRequest(user_id=user_id, note=note)
    return await _answer(alerter.AlertWithHistory, ctx, "alerter", "POST", path, body=body)


async def resolve_alerts(
    ctx: GatewayContext,
    org_id: UUID,
    alert_ids: Sequence[UUID],
    *,
    user_id: UUID | None,
    note: str | None,
) -> alerter.BulkResolveAnswer:
    path = f"{_org(org_id)}/alerts/resolve"
    body = alerter.BulkResolveRequest(ids=list(alert_ids), user_id=user_id, note=note)
    return await _answer(alerter.BulkResolveAnswer, ctx, "alerter", "POST", path, body=body)


def _channels(org_id: UUID, path: str = "") -> str:
    """The alerter owns notification channels and their delivery log."""
    return f"{_org(org_id)}/notification-channels{path}"


async def channels(
    ctx: GatewayContext, org_id: UUID, params: dict[str, str]
) -> alerter.ChannelPage:
    return await _answer(
        alerter.ChannelPage, ctx, "alerter", "GET", _channels(org_id), params=params
    )


async def create_channel(
    ctx: GatewayContext, org_id: UUID, body: alerter.ChannelIn
) -> alerter.CreatedChannel:
    """The one answer with the whole webhook URL and its signing secret."""
    return await _answer(
        alerter.CreatedChannel, ctx, "alerter", "POST", _channels(org_id), body=body
    )


async def channel(ctx: GatewayContext, org_id: UUID, channel_id: UUID) -> alerter.Channel:
    return await _answer(
        alerter.Channel, ctx, "alerter", "GET", _channels(org_id, f"/{channel_id}")
    )


async def update_channel(
    ctx: GatewayContext, org_id: UUID, channel_id: UUID, body: alerter.ChannelPatch
) -> alerter.Channel:
    """Only the fields the caller set change."""
    path = _channels(org_id, f"/{channel_id}")
    return await _answer(
        alerter.Channel, ctx, "alerter", "PATCH", path, body=body, exclude_unset=True
    )


async def delete_channel(ctx: GatewayContext, org_id: UUID, channel_id: UUID) -> None:
    await call(ctx, "alerter", "DELETE", _channels(org_id, f"/{channel_id}"))


async def send_test(ctx: GatewayContext, org_id: UUID, channel_id: UUID) -> alerter.Delivery:
    """A test delivery, queued: the delivery log shows how it went."""
    path = _channels(org_id, f"/{channel_id}/test")
    return await _answer(alerter.Delivery, ctx, "alerter", "POST", path)


async def deliveries(
    ctx: GatewayContext, org_id: UUID, channel_id: UUID, params: dict[str, str]
) -> alerter.DeliveryPage:
    path = _channels(org_id, f"/{channel_id}/deliveries")
    return await _answer(alerter.DeliveryPage, ctx, "alerter", "GET", path, params=params)


# --- ingest -----------------------------------------------------------------------------------


async def post_samples(
    ctx: GatewayContext, org_id: UUID, post_id: UUID, *, limit: int, cursor: str | None
) -> ingest.SamplePage:
    params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
    path = f"{_org(org_id)}/posts/{post_id}/samples"
    return await _answer(ingest.SamplePage, ctx, "ingest", "GET", path, params=params)


async def pull_status(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID
) -> dict[UUID, ingest.PostPull]:
    """Ingest's view of each tracked post's pulls: status, last success, last error."""
    path = f"{_org(org_id)}/campaigns/{campaign_id}/pull-status"
    found = await _answer(ingest.PullStatus, ctx, "ingest", "GET", path)
    return {item.post_id: item for item in found.items}


async def ingest_items(
    ctx: GatewayContext, org_id: UUID, items: list[dict[str, Any]]
) -> ingest.ItemsAnswer:
    """Hand samples (CSV imports) to ingest, the only writer of samples. The items are sent
    as they are: ingest validates them exactly as it validates n8n's."""
    found = await call(ctx, "ingest", "POST", f"{_org(org_id)}/items", json={"items": items})
    return ingest.ItemsAnswer.model_validate(found)


async def refused_messages(ctx: GatewayContext) -> ingest.RefusedMessages:
    """Ingest's count of AMQP messages refused for a missing or unknown x-pulse-key: they
    belong to no organization, so this count is the only place staff see them."""
    path = "/internal/operator/refused-messages"
    return await _answer(ingest.RefusedMessages, ctx, "ingest", "GET", path, params={"limit": "0"})


async def benchmark_accounts(
    ctx: GatewayContext, org_id: UUID, account_ids: Sequence[UUID]
) -> dict[UUID, ingest.BenchmarkAccount]:
    """Ingest's status and rollup of each benchmark account (it pulls them daily)."""
    if not account_ids:
        return {}
    params = {"ids": ",".join(str(a) for a in account_ids)}
    path = f"{_org(org_id)}/benchmark-accounts"
    found = await _answer(ingest.BenchmarkAccounts, ctx, "ingest", "GET", path, params=params)
    return {item.id: item for item in found.items}


async def benchmark_tags(
    ctx: GatewayContext, org_id: UUID, account_ids: Sequence[UUID], limit: int
) -> aggregator.TopTags:
    """The top hashtags and mentions of benchmark accounts' recent posts (ingest's rollup)."""
    if not account_ids:
        return aggregator.TopTags(hashtags=[], mentions=[])
    params = {"ids": ",".join(str(a) for a in account_ids), "limit": str(limit)}
    path = f"{_org(org_id)}/benchmark-tags"
    return await _answer(aggregator.TopTags, ctx, "ingest", "GET", path, params=params)


async def resume_pulls(ctx: GatewayContext, org_id: UUID) -> ingest.Resumed:
    """Credits bought: Pulse's own pulls of the organization start again."""
    return await _answer(ingest.Resumed, ctx, "ingest", "POST", f"{_org(org_id)}/provider/resume")


async def signing_secrets(ctx: GatewayContext, org_id: UUID) -> ingest.SigningSecrets:
    """Whether the n8n webhook must be signed, and each secret (never its value)."""
    return await _answer(
        ingest.SigningSecrets, ctx, "ingest", "GET", f"{_org(org_id)}/signing-secrets"
    )


async def create_signing_secret(ctx: GatewayContext, org_id: UUID) -> ingest.CreatedSecret:
    """A new secret, in this answer only (ingest keeps it sealed)."""
    path = f"{_org(org_id)}/signing-secrets"
    return await _answer(ingest.CreatedSecret, ctx, "ingest", "POST", path)


async def retire_signing_secret(
    ctx: GatewayContext, org_id: UUID, secret_id: UUID | None
) -> ingest.RetiredSecret:
    """Retire one secret, or (None) the older of two: a rotation's last step."""
    which = f"/{secret_id}" if secret_id else "/retire-older"
    method = "DELETE" if secret_id else "POST"
    path = f"{_org(org_id)}/signing-secrets{which}"
    return await _answer(ingest.RetiredSecret, ctx, "ingest", method, path)


async def require_signing(ctx: GatewayContext, org_id: UUID, required: bool) -> ingest.SigningState:
    body = ingest.SigningRequired(required=required)
    return await _answer(
        ingest.SigningState, ctx, "ingest", "PUT", f"{_org(org_id)}/signing", body=body
    )


# --- ingest: what operators see (runs, red flags, rejected items) -----------------------------


def _given(params: dict[str, str | None]) -> dict[str, str]:
    """The filters the caller set (an empty one means every value)."""
    return {k: v for k, v in params.items() if v}


async def runs(
    ctx: GatewayContext,
    org_id: UUID,
    *,
    status: str | None = None,
    source: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> ingest_operations.RunPage:
    """n8n runs and Pulse's own pull batches, newest first."""
    params = _given({"status": status, "source": source, "limit": str(limit), "cursor": cursor})
    path = f"{_org(org_id)}/runs"
    return await _answer(ingest_operations.RunPage, ctx, "ingest", "GET", path, params=params)


async def run(ctx: GatewayContext, org_id: UUID, run_id: UUID) -> ingest_operations.RunDetail:
    """The run, each post's outcome and each item ingest refused."""
    path = f"{_org(org_id)}/runs/{run_id}"
    return await _answer(ingest_operations.RunDetail, ctx, "ingest", "GET", path)


async def red_flags(ctx: GatewayContext, org_id: UUID) -> ingest_operations.RedFlags:
    path = f"{_org(org_id)}/red-flags"
    return await _answer(ingest_operations.RedFlags, ctx, "ingest", "GET", path)


async def rejected_items(
    ctx: GatewayContext,
    org_id: UUID,
    *,
    code: str | None = None,
    limit: int = 100,
    cursor: int | None = None,
) -> ingest_operations.RejectedPage:
    """Items still refused, newest first, each with the raw item as received."""
    params = _given({"code": code, "limit": str(limit), "cursor": str(cursor or "")})
    path = f"{_org(org_id)}/rejected-items"
    return await _answer(ingest_operations.RejectedPage, ctx, "ingest", "GET", path, params=params)


async def replay_rejected(
    ctx: GatewayContext, org_id: UUID, ids: Sequence[int]
) -> ingest_operations.Replayed:
    """Kept items tried again: those applied now, those still refused with the new reason."""
    body = ingest_operations.Replay(ids=list(ids))
    path = f"{_org(org_id)}/rejected-items/replay"
    return await _answer(ingest_operations.Replayed, ctx, "ingest", "POST", path, body=body)


# --- reporter ---------------------------------------------------------------------------------


def _schedule(org_id: UUID, campaign_id: UUID) -> str:
    return f"{_org(org_id)}/campaigns/{campaign_id}/report-schedule"


async def save_report_schedule(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID, body: reporter.ScheduleIn
) -> reporter.Schedule:
    """The campaign's client report schedule, created or replaced (the reporter keeps it)."""
    path = _schedule(org_id, campaign_id)
    return await _answer(reporter.Schedule, ctx, "reporter", "PUT", path, body=body)


async def report_schedule(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID
) -> reporter.ScheduleAndLog:
    """The schedule (None when there is none) and its delivery log."""
    return await _answer(
        reporter.ScheduleAndLog, ctx, "reporter", "GET", _schedule(org_id, campaign_id)
    )


async def delete_report_schedule(
    ctx: GatewayContext, org_id: UUID, campaign_id: UUID
) -> reporter.ScheduleDeleted:
    path = _schedule(org_id, campaign_id)
    return await _answer(reporter.ScheduleDeleted, ctx, "reporter", "DELETE", path)


# --- share ------------------------------------------------------------------------------------


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
) -> share.CreatedLink:
    """The new link with its token: the only answer that ever carries it."""
    body = share.LinkIn(
        campaign_id=campaign_id,
        created_by=created_by,
        expires_at=expires_at,
        password=password,
        show_forecast=show_forecast,
        show_emv=show_emv,
    )
    return await _answer(
        share.CreatedLink, ctx, "share", "POST", f"{_org(org_id)}/share-links", body=body
    )


async def list_links(ctx: GatewayContext, org_id: UUID, campaign_id: UUID) -> list[share.LinkOut]:
    path = f"{_org(org_id)}/campaigns/{campaign_id}/share-links"
    return (await _answer(share.LinkPage, ctx, "share", "GET", path)).items


async def revoke_link(ctx: GatewayContext, org_id: UUID, link_id: UUID) -> share.LinkOut:
    """Revoked for the organization's own links only: another's answers 404 like a missing one."""
    path = f"{_org(org_id)}/share-links/{link_id}"
    return await _answer(share.LinkOut, ctx, "share", "DELETE", path)
