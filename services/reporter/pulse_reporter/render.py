"""The CPU part of a job: PDF (WeasyPrint), CSV and XLSX bytes. Runs in a worker thread.

Only this service imports the renderer, so its memory (WeasyPrint, Pango, fontTools: tens of
MB) lands here and never on the gateway or share.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from openpyxl import Workbook  # type: ignore[import-untyped]

from pulse_contracts.reports import ReportRequested
from pulse_report import render_pdf_documents

from . import domain

BOM = "\ufeff"  # so Excel reads a CSV as UTF-8 and shows creators' names as written
# A cell that begins with one of these is a formula to a spreadsheet: a caption such as
# "=HYPERLINK(…)" must stay text (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
Progress = Callable[[int], None]


@dataclass(frozen=True)
class RenderedFile:
    content: bytes
    media_type: str
    filename: str


def render_file(request: ReportRequested, progress: Progress) -> RenderedFile:
    """The job's file; `progress(pct)` is called from this thread as documents are laid out."""
    if request.format == "pdf":
        total = len(request.documents)
        content = render_pdf_documents(
            domain.page_htmls(request),
            rendered=lambda n: progress(domain.document_progress(n, total)),
        )
    elif request.format == "csv":
        content = _csv(request)
    else:
        content = _xlsx(request)
    return RenderedFile(
        content=content,
        media_type=domain.MEDIA_TYPES[request.format],
        filename=domain.filename(request),
    )


def _text_cell(value: domain.Cell) -> domain.Cell:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def _csv(request: ReportRequested) -> bytes:
    out = io.StringIO()
    out.write(BOM)
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(domain.POST_COLUMNS)
    for row in domain.post_rows(request.documents):
        writer.writerow([_text_cell(v) for v in row])
    return out.getvalue().encode("utf-8")


def _xlsx(request: ReportRequested) -> bytes:
    book = Workbook(write_only=True)
    _sheet(book, "Summary", domain.summary_columns(request), domain.summary_rows(request))
    _sheet(book, "Posts", domain.POST_COLUMNS, domain.post_rows(request.documents))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _sheet(
    book: Workbook,
    title: str,
    columns: Sequence[str],
    rows: Sequence[tuple[domain.Cell, ...]],
) -> None:
    sheet = book.create_sheet(title)
    sheet.append(list(columns))
    for row in rows:
        sheet.append([_text_cell(v) for v in row])
