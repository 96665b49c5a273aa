"""/api/imports: CSV uploads of metric samples, run as background jobs with pollable progress.

The upload is spooled to a temporary file, then a task owned by the app streams it through
`read_metrics_csv`, resolves each row to a tracked post of the organization, and hands the
samples to ingest (the only writer of samples) in batches, recording progress after each.
Ingest dedupes on (post, observed_at), so importing a file twice double-counts nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path, PurePath
from typing import IO, Annotated, Any, Literal
from uuid import UUID, uuid4

from fastapi import APIRouter, File, Request, UploadFile
from pydantic import BaseModel

from pulse_contracts import utcnow
from pulse_contracts.post_urls import PostUrlError, parse_post_url
from pulse_runtime.errors import ApiError
from pulse_runtime.logging import get_logger

from .. import peers
from ..context import GatewayContext
from ..csv_import import ImportRow, RowError, batches, read_metrics_csv
from ..csv_reading import COUNTERS, CsvFormatError
from ..db import org_transaction
from ..deps import ContextDep, Manager, Reader
from ..repository import imports as repo

router = APIRouter(prefix="/api/imports", tags=["imports"])
log = get_logger(__name__)

BATCH_SIZE = 500  # samples per request to ingest
MAX_ERRORS = 1000  # row errors kept on the job
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
CHUNK_BYTES = 64 * 1024


class ImportAccepted(BaseModel):
    id: UUID
    status: Literal["queued", "running", "done", "failed"]


class RowErrorOut(BaseModel):
    line: int | None
    field: str | None
    message: str


class ImportOut(BaseModel):
    id: UUID
    created_by: UUID | None
    filename: str
    status: Literal["queued", "running", "done", "failed"]
    rows_total: int
    rows_accepted: int
    rows_duplicate: int
    rows_rejected: int
    errors: list[RowErrorOut]
    message: str | None
    created_at: datetime
    finished_at: datetime | None


@router.post("/metrics", response_model=ImportAccepted, status_code=202)
async def import_metrics(
    request: Request,
    ctx: ContextDep,
    caller: Manager,
    file: Annotated[UploadFile, File(description="CSV: post_url or post_id, observed_at, …")],
) -> dict[str, Any]:
    """Start an import; poll `GET /api/imports/{id}` for its progress."""
    path = await asyncio.to_thread(_spool, file.file)
    try:
        async with org_transaction(ctx.pool, caller.org_id) as conn:
            job = await repo.insert_import(
                conn,
                org_id=caller.org_id,
                import_id=uuid4(),
                created_by=caller.user_id,
                filename=PurePath(file.filename or "").name[:200],
            )
    except BaseException:
        _discard(path)
        raise
    task = asyncio.create_task(
        run_import(ctx, caller.org_id, job["id"], path), name=f"import-{job['id']}"
    )
    # The app holds every running import: a task nobody references can be collected mid-run.
    tasks = _import_tasks(request)
    tasks.add(task)
    task.add_done_callback(tasks.discard)
    return {"id": job["id"], "status": job["status"]}


@router.get("/{import_id}", response_model=ImportOut)
async def get_import(ctx: ContextDep, caller: Reader, import_id: UUID) -> dict[str, Any]:
    async with org_transaction(ctx.pool, caller.org_id) as conn:
        job = await repo.get_import(conn, org_id=caller.org_id, import_id=import_id)
    if job is None:
        raise ApiError(404, f"no import {import_id}")
    return job


def _import_tasks(request: Request) -> set[asyncio.Task[None]]:
    tasks: set[asyncio.Task[None]] | None = getattr(request.app.state, "import_tasks", None)
    if tasks is None:
        tasks = set()
        request.app.state.import_tasks = tasks
    return tasks


def _spool(source: IO[bytes]) -> Path:
    """Copy the upload to a file the job owns (the upload is closed with the request)."""
    fd, name = tempfile.mkstemp(prefix="pulse-import-", suffix=".csv")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as target:
            size = 0
            while chunk := source.read(CHUNK_BYTES):
                size += len(chunk)
                if size > MAX_UPLOAD_BYTES:
                    raise ApiError(
                        413,
                        f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; "
                        "split it into several imports",
                        details=[{"path": "file"}],
                    )
                target.write(chunk)
    except BaseException:
        _discard(path)
        raise
    return path


def _discard(path: Path) -> None:
    path.unlink(missing_ok=True)


# ---------------------------------------------------------------------------------------------
# The job


class _Sink:
    """Passes valid rows on and keeps the row errors (the first MAX_ERRORS) and the counts."""

    def __init__(self, progress: repo.Progress) -> None:
        self.progress = progress
        self._last_error_line: int | None = None

    def valid(self, results: Iterable[ImportRow | RowError]) -> Iterator[ImportRow]:
        for result in results:
            if isinstance(result, ImportRow):
                self.progress.rows_total += 1
                yield result
                continue
            if result.line != self._last_error_line:  # a row may have several problems
                self._last_error_line = result.line
                self.progress.rows_total += 1
                self.progress.rows_rejected += 1
            self.error(result.line, result.field, result.message)

    def error(self, line: int | None, field: str | None, message: str) -> None:
        errors = self.progress.errors
        assert errors is not None
        if len(errors) < MAX_ERRORS:
            errors.append({"line": line, "field": field, "message": message})


def _chunks(path: Path) -> Iterator[bytes]:
    with path.open("rb") as source:
        while chunk := source.read(CHUNK_BYTES):
            yield chunk


def _next_batch(rows: Iterator[list[ImportRow]]) -> list[ImportRow] | None:
    return next(rows, None)


async def run_import(ctx: GatewayContext, org_id: UUID, import_id: UUID, path: Path) -> None:
    """Run one import to `done` or `failed`; never raises (the job row says what happened)."""
    progress = repo.Progress(errors=[])
    try:
        await _save(ctx, org_id, import_id, progress)
        sink = _Sink(progress)
        rows = batches(sink.valid(read_metrics_csv(_chunks(path), now=utcnow())), BATCH_SIZE)
        while True:
            # Parsing is CPU work: a thread keeps the gateway answering meanwhile.
            batch = await asyncio.to_thread(_next_batch, rows)
            if batch is None:
                break
            await _send(ctx, org_id, batch, sink)
            await _save(ctx, org_id, import_id, progress)
        progress.status = "done"
    except CsvFormatError as exc:
        progress.status, progress.message = "failed", str(exc)
    except ApiError as exc:  # ingest unavailable or refusing the batch
        progress.status, progress.message = "failed", exc.message
    except asyncio.CancelledError:
        progress.status, progress.message = "failed", "interrupted: the gateway stopped"
        with contextlib.suppress(Exception):
            await _save(ctx, org_id, import_id, progress)
        raise
    except Exception:
        log.exception("import failed", import_id=str(import_id))
        progress.status, progress.message = "failed", "the import failed unexpectedly"
    finally:
        _discard(path)
    try:
        await _save(ctx, org_id, import_id, progress)
    except Exception:
        log.exception("could not record the end of an import", import_id=str(import_id))


async def _save(
    ctx: GatewayContext, org_id: UUID, import_id: UUID, progress: repo.Progress
) -> None:
    async with org_transaction(ctx.pool, org_id) as conn:
        await repo.save_progress(conn, org_id=org_id, import_id=import_id, progress=progress)


async def _send(ctx: GatewayContext, org_id: UUID, batch: list[ImportRow], sink: _Sink) -> None:
    """Resolve the batch's rows to tracked posts and hand the samples to ingest."""
    resolved = await _resolve(ctx, org_id, batch)
    items: list[dict[str, Any]] = []
    lines: list[int] = []
    for row in batch:
        post_id = resolved.get(row.line)
        if isinstance(post_id, str):  # why the row names no tracked post
            field = "post_id" if row.post_id is not None else "post_url"
            sink.progress.rows_rejected += 1
            sink.error(row.line, field, post_id)
            continue
        assert post_id is not None
        lines.append(row.line)
        items.append(
            {
                "post_id": str(post_id),
                "observed_at": row.observed_at.astimezone(UTC).isoformat(),
                "metrics": {counter: getattr(row, counter) for counter in COUNTERS},
                "estimated": row.estimated,
            }
        )
    if not items:
        return
    result = await peers.ingest_items(ctx, org_id, items)
    sink.progress.rows_accepted += result.accepted
    sink.progress.rows_duplicate += result.duplicates
    for rejection in result.rejected:
        index = rejection.index
        line = lines[index] if 0 <= index < len(lines) else None
        sink.progress.rows_rejected += 1
        sink.error(line, None, rejection.message or rejection.code)


async def _resolve(
    ctx: GatewayContext, org_id: UUID, batch: list[ImportRow]
) -> dict[int, UUID | str]:
    """Per line, the tracked post the row names, or why none: post_id first, else post_url
    (matched on the canonical URL or on the platform and the platform's post id)."""
    parsed: dict[str, tuple[str, str | None]] = {}
    for row in batch:
        if row.post_id is None and row.post_url is not None and row.post_url not in parsed:
            try:
                found = parse_post_url(row.post_url)
                parsed[row.post_url] = (found.platform, found.platform_post_id)
            except PostUrlError:  # pragma: no cover - the reader already parsed it
                parsed[row.post_url] = ("", None)
    ids = {row.post_id for row in batch if row.post_id is not None}
    ppids = {ppid for _, ppid in parsed.values() if ppid}
    async with org_transaction(ctx.pool, org_id) as conn:
        posts = await repo.find_posts(
            conn, org_id=org_id, ids=list(ids), urls=list(parsed), platform_post_ids=list(ppids)
        )
    known = {p["id"] for p in posts}
    by_url: dict[str, set[UUID]] = {}
    by_ppid: dict[tuple[str, str], set[UUID]] = {}
    for post in posts:
        by_url.setdefault(post["url"], set()).add(post["id"])
        if post["platform_post_id"]:
            key = (post["platform"], post["platform_post_id"])
            by_ppid.setdefault(key, set()).add(post["id"])

    resolved: dict[int, UUID | str] = {}
    for row in batch:
        if row.post_id is not None:
            resolved[row.line] = (
                row.post_id
                if row.post_id in known
                else f"post_id: no tracked post {row.post_id} in this organization"
            )
            continue
        assert row.post_url is not None
        platform, ppid = parsed[row.post_url]
        matches = by_url.get(row.post_url) or (by_ppid.get((platform, ppid)) if ppid else None)
        if not matches:
            resolved[row.line] = (
                f"post_url: no tracked post of this organization has {row.post_url}"
            )
        elif len(matches) > 1:
            resolved[row.line] = (
                f"post_url: {row.post_url} is tracked on {len(matches)} bookings; "
                "give post_id instead"
            )
        else:
            resolved[row.line] = next(iter(matches))
    return resolved
