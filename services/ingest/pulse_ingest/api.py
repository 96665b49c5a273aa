"""ingest's HTTP routes: the n8n webhook and internal reads for the gateway."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request

from pulse_contracts import utcnow
from pulse_runtime.db import Connection
from pulse_runtime.errors import ApiError
from pulse_runtime.http import internal_router, read_body
from pulse_runtime.logging import current_correlation_id

from . import handlers, repository
from .domain import MAX_BODY_BYTES, SOURCE_NAMES, BodyError, parse_body

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def ingest_router(pool: Any) -> APIRouter:
    """`pool` is a callable returning the live pool (the app creates it in its lifespan)."""
    router = APIRouter(tags=["ingest"])

    @router.post("/api/ingest/posts")
    async def ingest_posts(
        request: Request,
        authorization: Annotated[str | None, Header()] = None,
        x_pulse_key: Annotated[str | None, Header()] = None,
    ) -> dict[str, Any]:
        """Store samples from n8n: metrics items or raw ScrapeCreators bodies (≤ 1000, ≤ 5 MB)."""
        token = _bearer(authorization) or x_pulse_key
        org_id = await handlers.authenticate(pool(), token)
        if org_id is None:
            raise ApiError(
                401, "missing or unknown ingest token (Authorization: Bearer or X-Pulse-Key)"
            )
        body = await read_body(request, MAX_BODY_BYTES)
        try:
            items = parse_body(body)
        except BodyError as exc:
            if exc.status == 400:
                await handlers.reject_body(pool(), org_id, body, str(exc))
            raise ApiError(exc.status, str(exc)) from exc
        result = await handlers.ingest_items(
            pool(),
            org_id=org_id,
            items=items,
            source="http",
            now=utcnow(),
            correlation_id=current_correlation_id(),
        )
        return result.as_response()

    return router


def internal_reads(pool: Any, service_token: str) -> APIRouter:
    router = internal_router(service_token, prefix="/internal", tags=["internal"])

    @router.get("/orgs/{org_id}/posts/{post_id}/samples")
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

    @router.post("/orgs/{org_id}/items")
    async def import_items(org_id: UUID, request: Request) -> dict[str, Any]:
        """Samples another service hands over (the gateway's CSV imports): same rules as n8n's."""
        body = await read_body(request, MAX_BODY_BYTES)
        try:
            items = parse_body(body)
        except BodyError as exc:
            raise ApiError(exc.status, str(exc)) from exc
        result = await handlers.ingest_items(
            pool(),
            org_id=org_id,
            items=items,
            source="import",
            now=utcnow(),
            correlation_id=current_correlation_id(),
        )
        return result.as_response()

    @router.get("/orgs/{org_id}/rejected-items")
    async def rejected(
        org_id: UUID,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
        cursor: int | None = None,
    ) -> dict[str, Any]:
        """Items ingest refused, newest first, with the reason and the raw item as received."""
        async with pool().acquire() as conn:
            rows = await repository.rejected_items(
                conn, org_id=org_id, before_id=cursor or 2**62, limit=limit
            )
        items = [dict(r) for r in rows]
        return {
            "items": items,
            "next_cursor": str(items[-1]["id"]) if len(items) == limit else None,
        }

    return router


def _bearer(authorization: str | None) -> str | None:
    if authorization and authorization.lower().startswith("bearer "):
        return authorization[7:].strip() or None
    return None
