"""POST /api/imports/posts: register many post URLs at once from a spreadsheet (CSV).

Agencies collect their creators' post links in a sheet; this takes it as exported
(`booking_id,url`, comma, semicolon or tab separated, UTF-8 with or without BOM) and starts
tracking every row, exactly as `POST /api/bookings/{id}/posts` would, one row at a time, so each
post gets its own high-priority first fetch. A URL already tracked on its booking is counted,
not an error, so importing the same sheet twice changes nothing.
"""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, File, UploadFile
from pydantic import BaseModel

from pulse_runtime.errors import ApiError

from ..deps import Manager, PoolDep
from ..handlers import posts as handlers

router = APIRouter(prefix="/api/imports", tags=["imports"])

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
URL_COLUMNS = ("url", "post_url")


class PostImportError(BaseModel):
    line: int
    field: str | None
    message: str


class ImportedPost(BaseModel):
    line: int
    id: UUID
    booking_id: UUID
    url: str


class PostImportResult(BaseModel):
    registered: int
    already_tracked: int
    rejected: int
    posts: list[ImportedPost]
    errors: list[PostImportError]


@router.post("/posts", response_model=PostImportResult)
async def import_posts(
    pool: PoolDep,
    caller: Manager,
    file: Annotated[UploadFile, File(description="CSV with the columns booking_id and url")],
) -> dict[str, Any]:
    """Track every row's post URL on its booking; per-row errors name the line and column."""
    raw = await file.read(MAX_BYTES + 1)
    if len(raw) > MAX_BYTES:
        raise ApiError(
            413,
            f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB; split it",
            details=[{"path": "file"}],
        )
    rows = parse_post_rows(raw)
    result: dict[str, Any] = {
        "registered": 0,
        "already_tracked": 0,
        "rejected": 0,
        "posts": [],
        "errors": [],
    }
    for line, booking_id, url, problem in rows:
        if problem is not None or booking_id is None:
            result["rejected"] += 1
            result["errors"].append({"line": line, **(problem or {})})
            continue
        try:
            row = await handlers.register_post(pool, caller, booking_id, url)
        except ApiError as exc:
            if exc.status == 409:
                result["already_tracked"] += 1
                continue
            if exc.status not in (404, 422):
                raise
            result["rejected"] += 1
            field = "url" if exc.status == 422 else "booking_id"
            result["errors"].append({"line": line, "field": field, "message": exc.message})
            continue
        result["registered"] += 1
        result["posts"].append(
            {"line": line, "id": row["id"], "booking_id": booking_id, "url": row["url"]}
        )
    return result


Row = tuple[int, UUID | None, str, dict[str, Any] | None]


def parse_post_rows(raw: bytes) -> list[Row]:
    """(line, booking_id, url, problem) per data row; problem is None for a usable row.

    The file as a whole being unusable (not UTF-8, no such columns, too many rows) is a 422."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _unusable(f"the file is not UTF-8 text (byte {exc.start})") from exc
    lines = text.splitlines()
    skipped = 0  # blank lines above the header, so errors name the sheet's own line numbers
    while lines and not lines[0].strip():
        lines.pop(0)
        skipped += 1
    if not lines:
        raise _unusable("the file is empty")
    delimiter = max(",;\t", key=lines[0].count)
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=delimiter)
    header = [cell.strip().lower() for cell in next(reader)]
    url_column = next((c for c in URL_COLUMNS if c in header), None)
    if "booking_id" not in header or url_column is None:
        raise _unusable(f"the header must name the columns booking_id and url (found: {header})")
    at_booking, at_url = header.index("booking_id"), header.index(url_column)
    rows: list[Row] = []
    for record in reader:
        line = reader.line_num + skipped
        if not any(cell.strip() for cell in record):
            continue
        if len(rows) == MAX_ROWS:
            raise _unusable(f"the file has more than {MAX_ROWS} rows; split it")
        cells = record + [""] * (len(header) - len(record))
        booking, url = cells[at_booking].strip(), cells[at_url].strip()
        try:
            booking_id = UUID(booking)
        except ValueError:
            problem = {"field": "booking_id", "message": f"not a booking id: {booking[:80]!r}"}
            rows.append((line, None, url, problem))
            continue
        if not url:
            rows.append((line, booking_id, url, {"field": "url", "message": "no post URL"}))
            continue
        rows.append((line, booking_id, url, None))
    return rows


def _unusable(message: str) -> ApiError:
    return ApiError(422, message, details=[{"path": "file", "message": message}])
