"""reporter's internal route: a finished job's file, for the requester that owns the job."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Response

from pulse_contracts import utcnow
from pulse_runtime.errors import ApiError
from pulse_runtime.http import internal_router

from . import repository

PoolGetter = Callable[[], asyncpg.Pool]


def internal_routes(pool: PoolGetter, service_token: str) -> APIRouter:
    router = internal_router(service_token, prefix="/internal/orgs/{org_id}", tags=["internal"])

    @router.get("/reports/{job_id}/file", response_class=Response)
    async def report_file(org_id: UUID, job_id: UUID) -> Response:
        """The file while it is kept; the gateway and share check their caller first."""
        async with pool().acquire() as conn:
            found = await repository.get_file(conn, job_id=job_id, org_id=org_id, now=utcnow())
        if found is None:
            raise ApiError(404, f"no report file for job {job_id} (never made, or expired)")
        return Response(
            found.content,
            media_type=found.media_type,
            headers={
                "Content-Disposition": f'attachment; filename="{found.filename}"',
                "Cache-Control": "private, no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    return router
