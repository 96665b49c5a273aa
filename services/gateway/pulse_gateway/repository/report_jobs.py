"""Report jobs as the gateway keeps them: the request, and the state the reporter reported."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Any
from uuid import UUID

from pulse_contracts.reports import ReportProgressed
from pulse_runtime.db import Connection

from . import sql


async def insert(
    conn: Connection,
    *,
    job_id: UUID,
    org_id: UUID,
    user_id: UUID | None,
    campaign_ids: Sequence[UUID],
    period_from: date | None,
    period_to: date | None,
    sections: Sequence[str],
    format: str,
    title: str,
) -> dict[str, Any]:
    row = await conn.fetchrow(
        sql.report_jobs_insert,
        job_id,
        org_id,
        user_id,
        list(campaign_ids),
        period_from,
        period_to,
        list(sections),
        format,
        title,
    )
    assert row is not None
    return dict(row)


async def get(conn: Connection, *, org_id: UUID, job_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(sql.report_jobs_get, org_id, job_id)
    return dict(row) if row else None


async def newest(conn: Connection, *, org_id: UUID, limit: int) -> list[dict[str, Any]]:
    return [dict(r) for r in await conn.fetch(sql.report_jobs_list, org_id, limit)]


async def retry(conn: Connection, *, org_id: UUID, job_id: UUID) -> dict[str, Any] | None:
    """The failed job under its next attempt number, or None if it is not failed."""
    row = await conn.fetchrow(sql.report_jobs_retry, org_id, job_id)
    return dict(row) if row else None


async def apply_progress(conn: Connection, *, org_id: UUID, event: ReportProgressed) -> bool:
    status = await conn.execute(
        sql.report_jobs_progress,
        org_id,
        event.job_id,
        event.attempt,
        event.status,
        event.progress,
        event.error,
        event.filename,
        event.media_type,
        event.size_bytes,
        event.expires_at,
    )
    return status != "UPDATE 0"


async def campaign_choices(conn: Connection, *, org_id: UUID) -> list[dict[str, Any]]:
    """The campaigns a custom report may cover, newest first, with their dates."""
    return [dict(r) for r in await conn.fetch(sql.report_campaign_choices, org_id)]
