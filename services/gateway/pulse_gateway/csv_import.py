"""Streaming CSV import of metric samples: one result per data row as it is read (pure, no I/O)."""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final
from uuid import UUID

from pulse_contracts.post_urls import PostUrlError, parse_post_url

from .csv_reading import (
    COUNTERS,
    CsvFormatError,
    LineSplitter,
    clip,
    find_header,
    header_columns,
    iso,
    read_record,
)

__all__ = [
    "ImportRow",
    "RowError",
    "batches",
    "read_metrics_csv",
]

FUTURE_TOLERANCE: Final = timedelta(minutes=5)
# The contracts' Counter upper bound; a larger number is a typo, not a metric.
MAX_COUNTER: Final = 10**15

# Digits, optionally grouped by threes with one consistent separator: "1,234", "1 234" and
# "1_234" are all 1234, while "1,5" or "12,34" are rejected because they look like decimals.
_WHOLE: Final = re.compile(r"[0-9]+|[0-9]{1,3}([,_ \u00a0\u202f])[0-9]{3}(?:\1[0-9]{3})*")
_DATETIME: Final = re.compile(
    r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{2})-(?P<d>[0-9]{2})"
    r"(?:[Tt ](?P<h>[0-9]{2}):(?P<mi>[0-9]{2})(?::(?P<s>[0-9]{2})(?:[.,](?P<f>[0-9]{1,6}))?)?"
    r"(?P<tz>[Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)?)?"
)
_TRUE: Final = frozenset({"true", "1", "yes"})
_FALSE: Final = frozenset({"false", "0", "no", ""})
# The export writes "n/a" for a counter the platform does not expose; reading it back as
# "not exposed" lets an exported file be corrected and re-imported.
_NOT_AVAILABLE: Final = frozenset({"", "n/a"})


@dataclass(frozen=True)
class ImportRow:
    """One valid sample row. `post_url`, when given, is the canonical URL of the post."""

    line: int
    post_id: UUID | None
    post_url: str | None
    observed_at: datetime
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None
    estimated: bool


@dataclass(frozen=True)
class RowError:
    """One problem with one row; `field` is the column name, None for the row as a whole."""

    line: int
    field: str | None
    message: str


def read_metrics_csv(
    chunks: Iterable[bytes], *, now: datetime, max_rows: int = 200_000
) -> Iterator[ImportRow | RowError]:
    """Parse a metrics CSV given as byte chunks, yielding a result per data row as it is read.

    A row with problems yields one RowError per problem and no ImportRow. Blank rows are
    skipped. CsvFormatError is raised when the file as a whole is unusable; the limit on
    rows can only be detected on reaching row max_rows + 1, after the earlier rows were
    yielded, so a caller must treat the error as failing the whole import.
    """
    # Checked here rather than in the generator so a bad call fails at once, not on first use.
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    if max_rows < 1:
        raise ValueError("max_rows must be at least 1")
    return _read(chunks, now.astimezone(UTC), max_rows)


def _read(chunks: Iterable[bytes], now: datetime, max_rows: int) -> Iterator[ImportRow | RowError]:
    lines = LineSplitter().lines(chunks)
    header_at, header_line, delimiter = find_header(lines)
    reader = csv.reader(itertools.chain([header_line], lines), delimiter=delimiter)
    header = read_record(reader, header_at + 1)
    if header is None:  # pragma: no cover - the header line is known not to be blank
        raise CsvFormatError("the file has no header row")
    columns = header_columns(header)
    latest = now + FUTURE_TOLERANCE
    urls = _UrlCache()
    rows = 0
    while True:
        # line_num counts the physical lines the reader consumed, header included.
        start = header_at + reader.line_num + 1
        record = read_record(reader, start)
        if record is None:
            return
        if not any(cell.strip() for cell in record):
            continue
        rows += 1
        if rows > max_rows:
            raise CsvFormatError(f"the file has more than {max_rows} data rows")
        yield from _parse_row(start, record, columns, len(header), latest, urls)


class _UrlCache:
    """Canonical URL, or the parse error, of recently seen post URLs.

    A file usually holds many samples of each post, and parsing a URL costs more than the
    rest of its row; the size bound keeps memory flat on a file of all-distinct URLs.
    """

    SIZE: Final = 4096

    def __init__(self) -> None:
        # raw URL -> (canonical URL, None) or (None, why it is refused)
        self._seen: dict[str, tuple[str | None, str | None]] = {}

    def canonical(self, raw: str) -> tuple[str | None, str | None]:
        known = self._seen.get(raw)
        if known is None:
            try:
                known = (parse_post_url(raw).url, None)
            except PostUrlError as exc:
                known = (None, str(exc))
            if len(self._seen) >= self.SIZE:
                self._seen.clear()
            self._seen[raw] = known
        return known


def _parse_row(
    line: int,
    record: list[str],
    columns: Mapping[str, int],
    width: int,
    latest: datetime,
    urls: _UrlCache,
) -> Iterator[ImportRow | RowError]:
    if len(record) > width and any(cell.strip() for cell in record[width:]):
        # The cells are misaligned (often an unquoted "1,234"), so per-field messages would
        # blame the wrong columns; report the shape alone.
        yield RowError(
            line,
            None,
            f"row has {len(record)} cells but the header has {width} columns "
            '(quote numbers with thousands separators, e.g. "1,234")',
        )
        return

    def cell(name: str) -> str:
        index = columns.get(name)
        if index is None or index >= len(record):
            return ""
        return record[index].strip()

    errors: list[RowError] = []

    post_id: UUID | None = None
    raw_id = cell("post_id")
    if raw_id:
        try:
            post_id = UUID(raw_id)
        except ValueError:
            errors.append(RowError(line, "post_id", f"post_id: {_show(raw_id)} is not a UUID"))

    post_url: str | None = None
    raw_url = cell("post_url")
    if raw_url:
        post_url, problem = urls.canonical(raw_url)
        if problem is not None:
            errors.append(RowError(line, "post_url", f"post_url: {problem}"))

    if not raw_id and not raw_url:
        field = "post_url" if "post_url" in columns else "post_id"
        errors.append(RowError(line, field, "post_url or post_id is required"))

    observed_at: datetime | None = None
    raw_at = cell("observed_at")
    if not raw_at:
        errors.append(RowError(line, "observed_at", "observed_at is required"))
    else:
        observed_at = _parse_datetime(raw_at)
        if observed_at is None:
            errors.append(
                RowError(
                    line,
                    "observed_at",
                    f"observed_at: {_show(raw_at)} is not a date-time (expected ISO-8601 such "
                    "as 2026-11-20T10:00:00Z, YYYY-MM-DD HH:MM[:SS] in UTC, or YYYY-MM-DD)",
                )
            )
        elif observed_at > latest:
            errors.append(
                RowError(
                    line,
                    "observed_at",
                    f"observed_at: {iso(observed_at)} is more than 5 minutes in the future",
                )
            )

    counters: dict[str, int | None] = {}
    counter_failed = False
    for name in COUNTERS:
        try:
            counters[name] = _parse_counter(cell(name))
        except ValueError as exc:
            errors.append(RowError(line, name, f"{name}: {exc}"))
            counter_failed = True
            counters[name] = None
    if not counter_failed and all(value is None for value in counters.values()):
        errors.append(
            RowError(line, None, "no counters: at least one of " + ", ".join(COUNTERS) + " needed")
        )

    estimated = False
    raw_estimated = cell("estimated").lower()
    if raw_estimated in _TRUE:
        estimated = True
    elif raw_estimated not in _FALSE:
        errors.append(
            RowError(
                line,
                "estimated",
                f"estimated: {_show(cell('estimated'))} is not one of true/false/1/0/yes/no",
            )
        )

    if errors:
        yield from errors
        return
    assert observed_at is not None  # every path that leaves it None recorded an error
    yield ImportRow(
        line=line,
        post_id=post_id,
        post_url=post_url,
        observed_at=observed_at,
        views=counters["views"],
        likes=counters["likes"],
        comments=counters["comments"],
        shares=counters["shares"],
        saves=counters["saves"],
        estimated=estimated,
    )


def _parse_counter(raw: str) -> int | None:
    """The counter's value, or None when not given; ValueError says what is wrong."""
    if raw.isascii() and raw.isdigit():
        value = int(raw)  # the common case, without the regular expression
    elif raw.lower() in _NOT_AVAILABLE:
        return None
    elif _WHOLE.fullmatch(raw):
        value = int(re.sub(r"[^0-9]", "", raw))
    else:
        raise ValueError(f"{_show(raw)} is not a whole number ≥ 0")
    if value > MAX_COUNTER:
        raise ValueError(f"{_show(raw)} is larger than {MAX_COUNTER:,}")
    return value


def _parse_datetime(raw: str) -> datetime | None:
    match = _DATETIME.fullmatch(raw)
    if match is None:
        return None
    tz = match["tz"]
    if tz is None or tz in ("Z", "z"):
        zone: timezone = UTC  # a time without an offset is UTC by the import's contract
    else:
        digits = tz[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or "0")
        if hours > 23 or minutes > 59:
            return None
        offset = timedelta(hours=hours, minutes=minutes)
        zone = timezone(-offset if tz[0] == "-" else offset)
    try:
        value = datetime(
            int(match["y"]),
            int(match["mo"]),
            int(match["d"]),
            int(match["h"] or 0),
            int(match["mi"] or 0),
            int(match["s"] or 0),
            int((match["f"] or "0").ljust(6, "0")),
            tzinfo=zone,
        )
        return value if zone is UTC else value.astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def _show(raw: str) -> str:
    return repr(clip(raw, 40))


def batches(rows: Iterable[ImportRow], size: int = 500) -> Iterator[list[ImportRow]]:
    """Group rows into lists of `size` (the last may be shorter), pulling rows lazily."""
    if size < 1:
        raise ValueError("size must be at least 1")
    return _batches(iter(rows), size)


def _batches(rows: Iterator[ImportRow], size: int) -> Iterator[list[ImportRow]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch
