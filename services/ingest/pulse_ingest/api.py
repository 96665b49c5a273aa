"""ingest's HTTP routes: the n8n webhook and internal reads for the gateway."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any
from uuid import UUID, uuid4

from fastapi import APIRouter, Depends, Header, Query, Request

from pulse_contracts import utcnow
from pulse_contracts.internal.ingest import (
    CreatedSecret,
    ItemsAnswer,
    ProviderState,
    PullQueued,
    PullStatus,
    RefusedMessages,
    Resumed,
    RetiredSecret,
    SamplePage,
    SigningRequired,
    SigningSecrets,
    SigningState,
)
from pulse_contracts.internal.ingest_operations import (
    ClockOffset,
    ClockSet,
    PostComments,
    PullRunPage,
    RejectedPage,
    Ticked,
)
from pulse_runtime.db import Connection
from pulse_runtime.errors import ApiError
from pulse_runtime.http import internal_router, read_body
from pulse_runtime.logging import current_correlation_id, get_logger

from . import handlers, repository, signing
from .domain import SOURCE_NAMES
from .pulling import pull_status
from .reading import MAX_BODY_BYTES
from .scheduler import Clock
from .tokens import TokenCache

if TYPE_CHECKING:
    from .metrics import IngestMetrics
    from .pulling import Puller
    from .rate_limits import TokenLimits

log = get_logger(__name__)

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ingest_router(
    pool: Any,
    sealing_key: bytes = b"",
    tokens: TokenCache | None = None,
    metrics: IngestMetrics | None = None,
    limits: TokenLimits | None = None,
) -> APIRouter:
    """`pool` is a callable returning the live pool (the app creates it in its lifespan);
    `tokens` remembers ingest tokens briefly (tokens.py states the revocation bound); `limits`
    counts each token's requests (rate_limits.py)."""
    router = APIRouter(tags=["ingest"], dependencies=[Depends(limits)] if limits else [])
    known = tokens if tokens is not None else TokenCache()

    @router.post("/api/ingest/posts")
    async def ingest_posts(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        x_pulse_key: Annotated[str | None, Header()] = None,
        x_pulse_signature: Annotated[str | None, Header()] = None,
        x_pulse_run: Annotated[UUID | None, Header()] = None,
    ) -> dict[str, Any]:
        """Store samples from n8n: metrics items or raw ScrapeCreators bodies (≤ 1000, ≤ 5 MB).

        When the organization requires signing, `X-Pulse-Signature: t=<unix>,v1=<hex>` must
        sign the exact raw body (HMAC-SHA256 over "<t>.<body>", at most 300 s old)."""
        token = _bearer(authorization) or x_pulse_key
        org_id = await handlers.authenticate(pool(), token, known)
        if org_id is None:
            raise ApiError(
                401, "missing or unknown ingest token (Authorization: Bearer or X-Pulse-Key)"
            )
        body = await read_body(request, MAX_BODY_BYTES)
        delivery = handlers.Delivery(
            org_id=org_id, body=body, correlation_id=current_correlation_id(), run_id=x_pulse_run
        )
        # One connection for the rest: the signing check, then the batch's one transaction.
        # (It is taken only once the body is in, so a slow sender never holds one.)
        conn: Connection
        async with pool().acquire() as conn:
            await _check_signature(conn, sealing_key, org_id, body, x_pulse_signature)
            async with conn.transaction():
                (received,) = await handlers.receive_items(
                    conn, [delivery], source="http", now=utcnow()
                )
        if received.unreadable is not None:
            raise ApiError(received.unreadable.status, str(received.unreadable))
        result = received.result
        if metrics is not None:
            metrics.count_items("http", [result])
        return result.as_response()

    return router


def internal_reads(
    pool: Any, service_token: str, metrics: IngestMetrics | None = None
) -> APIRouter:
    router = internal_router(service_token, prefix="/internal", tags=["internal"])

    @router.get("/orgs/{org_id}/posts/{post_id}/samples", response_model=SamplePage)
    async def post_samples(
        org_id: UUID,
        post_id: UUID,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
        cursor: datetime | None = None,
    ) -> dict[str, Any]:
        """A post's sample history, oldest first; `cursor` is the last observed_at seen."""
        conn: Connection
        async with pool().acquire() as conn:
            rows = await repository.sample_history(
                conn, org_id=org_id, post_id=post_id, after=cursor or EPOCH, limit=limit
            )
        items = [{**dict(r), "source": SOURCE_NAMES.get(r["source"], "unknown")} for r in rows]
        next_cursor = items[-1]["observed_at"].isoformat() if len(items) == limit else None
        return {"items": items, "next_cursor": next_cursor}

    @router.get("/orgs/{org_id}/posts/{post_id}/comments", response_model=PostComments)
    async def post_comments(
        org_id: UUID,
        post_id: UUID,
        limit: Annotated[int, Query(ge=0, le=200)] = 20,
    ) -> dict[str, Any]:
        """The post's sentiment counts over every analysed comment, its last comments fetch
        and its latest `limit` comments with their scores (staff only: comment text never
        leaves ingest in events)."""
        async with pool().acquire() as conn:
            summary = await repository.comment_summary(conn, org_id, post_id)
            if summary is None:
                raise ApiError(404, f"no tracked post {post_id}")
            rows = await repository.post_comments(conn, post_id, limit) if limit else []
        last_pull = summary["last_pull"]
        return {
            "post_id": summary["post_id"],
            "platform": summary["platform"],
            "analysed": summary["analysed"],
            "positive": summary["positive"],
            "neutral": summary["neutral"],
            "negative": summary["negative"],
            "checked_at": summary["comments_checked_at"],
            "last_pull": json.loads(last_pull) if isinstance(last_pull, str) else last_pull,
            "items": [dict(r) for r in rows],
        }

    @router.post("/orgs/{org_id}/items", response_model=ItemsAnswer)
    async def import_items(org_id: UUID, request: Request) -> dict[str, Any]:
        """Samples another service hands over (the gateway's CSV imports): same rules as n8n's."""
        body = await read_body(request, MAX_BODY_BYTES)
        delivery = handlers.Delivery(
            org_id=org_id, body=body, correlation_id=current_correlation_id()
        )
        async with pool().acquire() as conn, conn.transaction():
            (received,) = await handlers.receive_items(
                conn, [delivery], source="import", now=utcnow()
            )
        if received.unreadable is not None:
            raise ApiError(received.unreadable.status, str(received.unreadable))
        result = received.result
        if metrics is not None:
            metrics.count_items("import", [result])
        return result.as_response()

    @router.get("/orgs/{org_id}/rejected-items", response_model=RejectedPage)
    async def rejected(
        org_id: UUID,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: int | None = None,
        code: Annotated[str | None, Query(max_length=100)] = None,
    ) -> dict[str, Any]:
        """Items ingest refused and still refused (not replayed or applied), newest first,
        with the reason and the raw item as received; `held` while awaiting their post."""
        async with pool().acquire() as conn:
            rows = await repository.rejected_items(
                conn, org_id=org_id, before_id=cursor or 2**62, limit=limit, code=code
            )
        items = [dict(r) for r in rows]
        return {
            "items": items,
            "next_cursor": str(items[-1]["id"]) if len(items) == limit else None,
        }

    @router.get("/operator/refused-messages", response_model=RefusedMessages)
    async def refused_messages(
        limit: Annotated[int, Query(ge=0, le=200)] = 20,
        hours: Annotated[int, Query(ge=1, le=24 * 90)] = 24,
    ) -> dict[str, Any]:
        """AMQP messages refused for a missing or unknown `x-pulse-key`. They belong to no
        organization, so no staff screen shows them: this is the operator's view (the gateway's
        /docs/architecture shows the counts). Newest first, each raw body cut to 2000 chars."""
        since = utcnow() - timedelta(hours=hours)
        async with pool().acquire() as conn:
            summary = await repository.refused_summary(conn, since=since)
            rows = await repository.refused_messages(conn, limit=limit, raw_chars=2000)
        return {
            "total": summary["total"],
            "recent": summary["recent"],
            "recent_hours": hours,
            "last_at": summary["last_at"],
            "items": [dict(r) for r in rows],
        }

    return router


async def _check_signature(
    conn: Connection, key: bytes, org_id: UUID, body: bytes, header: str | None
) -> None:
    """Required signing: a valid signature or 401. Optional signing: a signature that is sent
    is still checked (a misconfigured sender learns before signing is switched on). Read on
    every request, not cached: switching signing on or retiring a secret acts at once."""
    required, sealed = await repository.webhook_signing(conn, org_id)
    if not required and not (header and sealed):
        return
    secrets: list[str] = []
    for blob in sealed:
        try:
            secrets.append(signing.unseal(key, blob))
        except ValueError:
            log.error("a signing secret cannot be unsealed with this key", org_id=str(org_id))
    try:
        signing.verify(header, body, secrets, now=time.time())
    except signing.SignatureError as exc:
        raise ApiError(401, str(exc), details=[{"reason": exc.reason}]) from exc


def pulling_routes(
    pool: Any, service_token: str, *, puller: Puller | None, clock: Clock, key: bytes
) -> APIRouter:
    """Internal routes for the gateway: pull status, manual pulls, the provider pause, and the
    organization's webhook signing secrets (created here, shown once, never stored elsewhere)."""
    router = internal_router(service_token, prefix="/internal/orgs/{org_id}", tags=["internal"])
    enabled = puller is not None

    @router.get("/campaigns/{campaign_id}/pull-status", response_model=PullStatus)
    async def campaign_pull_status(org_id: UUID, campaign_id: UUID) -> dict[str, Any]:
        """Per tracked post: ok | failing | deleted | paused | not_pulled, with the last
        success, last attempt, consecutive failures and last error."""
        async with pool().acquire() as conn:
            rows = await repository.pull_status(conn, org_id, campaign_id)
            state = await repository.provider_state(conn, org_id)
        items = [
            {
                "post_id": r["post_id"],
                "booking_id": r["booking_id"],
                "platform": r["platform"],
                "url": r["url"],
                "status": pull_status(r, pulling_enabled=enabled),
                "last_success_at": r["last_success_at"],
                "last_attempt_at": r["last_attempt_at"],
                "consecutive_failures": r["consecutive_failures"],
                "last_error_code": r["last_error_code"],
                "last_error": r["last_error"],
                "queued": r["queued_at"] is not None,
                "deleted_seen_at": r["deleted_seen_at"],
                "deleted_at": r["deleted_at"],
            }
            for r in rows
        ]
        return {
            "campaign_id": campaign_id,
            "pulling_enabled": enabled,
            "paused": bool(state and state["paused_at"]),
            "paused_at": state["paused_at"] if state else None,
            "items": items,
        }

    @router.get("/posts/{post_id}/pull-runs", response_model=PullRunPage)
    async def post_pull_runs(
        org_id: UUID,
        post_id: UUID,
        limit: Annotated[int, Query(ge=1, le=500)] = 50,
        cursor: int | None = None,
    ) -> dict[str, Any]:
        """Every provider call for the post, newest first."""
        async with pool().acquire() as conn:
            rows = await repository.pull_runs(
                conn, org_id=org_id, post_id=post_id, before_id=cursor or 2**62, limit=limit
            )
        items = [dict(r) for r in rows]
        return {
            "items": items,
            "next_cursor": str(items[-1]["id"]) if len(items) == limit else None,
        }

    @router.post("/posts/{post_id}/pull", response_model=PullQueued, status_code=202)
    async def pull_now(org_id: UUID, post_id: UUID) -> dict[str, Any]:
        """Fetch one tracked post now, through the high-priority queue."""
        if puller is None:
            raise ApiError(409, "pulling from the provider is disabled in this deployment")
        envelope = await puller.request_fetch(org_id, post_id)
        if envelope is None:
            raise ApiError(404, f"no tracked post {post_id}")
        return {"command_id": envelope.event_id, "priority": "high"}

    @router.get("/provider", response_model=ProviderState)
    async def provider_state(org_id: UUID) -> dict[str, Any]:
        async with pool().acquire() as conn:
            state = await repository.provider_state(conn, org_id)
        return {
            "pulling_enabled": enabled,
            "paused": bool(state and state["paused_at"]),
            "paused_at": state["paused_at"] if state else None,
            "paused_reason": state["paused_reason"] if state else None,
            "resumed_at": state["resumed_at"] if state else None,
        }

    @router.post("/provider/resume", response_model=Resumed)
    async def resume(org_id: UUID) -> dict[str, Any]:
        """An operator bought credits: the organization's pulls start again."""
        async with pool().acquire() as conn:
            resumed = await repository.resume_orgs(conn, [org_id], clock.now())
        return {"resumed": bool(resumed)}

    @router.post("/signing-secrets", response_model=CreatedSecret, status_code=201)
    async def create_secret(org_id: UUID) -> dict[str, Any]:
        """A new signing secret, returned this once. With one already active this is the
        rotation's first step (both verify until the older one is retired); with two active it
        is refused."""
        secret = signing.new_secret()
        secret_id, now = uuid4(), utcnow()
        async with pool().acquire() as conn, conn.transaction():
            await repository.lock_signing(conn, org_id)
            active = await repository.active_secrets(conn, org_id)
            if len(active) >= 2:
                raise ApiError(409, "two secrets are already active: retire the older one first")
            await repository.insert_secret(
                conn,
                secret_id=secret_id,
                org_id=org_id,
                sealed=signing.seal(key, secret),
                hint=secret[-4:],
                at=now,
            )
        return {
            "id": secret_id,
            "secret": secret,
            "hint": secret[-4:],
            "created_at": now,
            "active_secrets": len(active) + 1,
        }

    @router.get("/signing-secrets", response_model=SigningSecrets)
    async def list_secrets(org_id: UUID) -> dict[str, Any]:
        async with pool().acquire() as conn:
            required, _ = await repository.webhook_signing(conn, org_id)
            rows = await repository.list_secrets(conn, org_id)
        return {
            "signing_required": required,
            "items": [
                {
                    "id": r["id"],
                    "hint": r["hint"],
                    "created_at": r["created_at"],
                    "retired_at": r["retired_at"],
                    "active": r["retired_at"] is None,
                }
                for r in rows
            ],
        }

    async def _retire(org_id: UUID, pick: Any) -> dict[str, Any]:
        async with pool().acquire() as conn, conn.transaction():
            required = await repository.lock_signing(conn, org_id)
            active = await repository.active_secrets(conn, org_id)
            target = pick(active)
            if target is None:
                raise ApiError(404, "no such active signing secret")
            if required and len(active) == 1:
                raise ApiError(
                    409,
                    "signing is required: this is the only active secret; create another "
                    "one first, or switch signing off",
                )
            await repository.retire_secret(conn, org_id, target, utcnow())
        return {"retired": target, "active_secrets": len(active) - 1}

    @router.post("/signing-secrets/retire-older", response_model=RetiredSecret)
    async def retire_older(org_id: UUID) -> dict[str, Any]:
        """Rotation's last step: retire the older of the two active secrets."""

        def older(active: list[Any]) -> UUID | None:
            if len(active) < 2:
                raise ApiError(409, "only one secret is active: nothing to rotate out")
            found: UUID = active[0]["id"]
            return found

        return await _retire(org_id, older)

    @router.delete("/signing-secrets/{secret_id}", response_model=RetiredSecret)
    async def retire(org_id: UUID, secret_id: UUID) -> dict[str, Any]:
        return await _retire(
            org_id, lambda active: secret_id if any(r["id"] == secret_id for r in active) else None
        )

    @router.put("/signing", response_model=SigningState)
    async def set_required(org_id: UUID, body: SigningRequired) -> dict[str, Any]:
        """Switch required signing on (needs an active secret) or off."""
        async with pool().acquire() as conn, conn.transaction():
            await repository.lock_signing(conn, org_id)
            if body.required and not await repository.active_secrets(conn, org_id):
                raise ApiError(409, "create a signing secret before requiring signatures")
            await repository.set_signing_required(conn, org_id, body.required)
        return {"signing_required": body.required}

    return router


def test_routes(service_token: str, *, puller: Puller | None, clock: Clock) -> APIRouter:
    """Only with PULSE_INGEST_TEST_ROUTES (refused in production): tests move ingest's clock
    and run a scheduler tick now instead of waiting for the loop."""
    router = internal_router(service_token, prefix="/internal/test", tags=["test"])

    @router.put("/clock", response_model=ClockSet)
    async def set_clock(body: ClockOffset) -> dict[str, Any]:
        clock.set_offset(body.offset_s)
        return {"offset_s": body.offset_s, "now": clock.now()}

    @router.post("/scheduler/tick", response_model=Ticked)
    async def tick() -> dict[str, Any]:
        if puller is None:
            raise ApiError(409, "pulling is disabled")
        return (await puller.tick()).as_response()

    return router


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None
