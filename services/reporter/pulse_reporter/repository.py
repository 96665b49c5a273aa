"""reporter's tables through asyncpg; SQL lives in sql/ beside this module."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from uuid import UUID

from pulse_contracts.reports import ReportRequested
from pulse_runtime.db import Connection, SqlFiles

SCHEMA = "reporter"
sql = SqlFiles(Path(__file__).parent / "sql")


@dataclass(frozen=True)
class Job:
    job_id: UUID
    org_id: UUID
    attempt: int
    status: str
    error: str | None


@dataclass(frozen=True)
class StoredFile:
    filename: str
    media_type: str
    content: bytes
    expires_at: datetime


async def note_job(conn: Connection, *, org_id: UUID, request: ReportRequested) -> None:
    """The job's row, once; a redelivery or a retry finds it there."""
    await conn.execute(
        sql.note_job,
        request.job_id,
        org_id,
        request.requested_by,
        request.attempt,
        request.format,
        request.title,
    )


async def claim_job(conn: Connection, job_id: UUID) -> Job | None:
    """The job's row locked for this transaction, or None while another replica holds it."""
    row = await conn.fetchrow(sql.claim_job, job_id)
    if row is None:
        return None
    return Job(
        job_id=row["job_id"],
        org_id=row["org_id"],
        attempt=row["attempt"],
        status=row["status"],
        error=row["error"],
    )


async def restart_job(conn: Connection, *, request: ReportRequested) -> None:
    """A retry: the job starts over under its new attempt number, its old file gone."""
    await conn.execute(
        sql.restart_job, request.job_id, request.attempt, request.format, request.title
    )
    await conn.execute(sql.drop_file, request.job_id)


async def record_start(conn: Connection, *, job_id: UUID, attempt: int, replica: str) -> None:
    await conn.execute(sql.record_start, job_id, attempt, replica)


async def count_starts(conn: Connection, *, job_id: UUID, attempt: int) -> int:
    """Renders of this attempt that began (each committed before it ran)."""
    return int(await conn.fetchval(sql.count_starts, job_id, attempt))


async def finish_job(
    conn: Connection,
    *,
    job_id: UUID,
    org_id: UUID,
    filename: str,
    media_type: str,
    content: bytes,
    now: datetime,
    expires_at: datetime,
) -> None:
    await conn.execute(
        sql.store_file, job_id, org_id, filename, media_type, content, len(content), now, expires_at
    )
    await conn.execute(sql.finish_job, job_id, now)


async def fail_job(conn: Connection, *, job_id: UUID, error: str, now: datetime) -> None:
    await conn.execute(sql.fail_job, job_id, error, now)


async def get_file(
    conn: Connection, *, job_id: UUID, org_id: UUID, now: datetime
) -> StoredFile | None:
    """The job's file while it is kept, and only for the organization that asked for it."""
    row = await conn.fetchrow(sql.get_file, job_id, org_id, now)
    if row is None:
        return None
    return StoredFile(
        filename=row["filename"],
        media_type=row["media_type"],
        content=bytes(row["content"]),
        expires_at=row["expires_at"],
    )


async def delete_expired(conn: Connection, *, now: datetime) -> int:
    status = await conn.execute(sql.delete_expired, now)
    return int(status.split()[-1])
