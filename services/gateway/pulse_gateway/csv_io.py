"""Streaming CSV import of metric samples and CSV export of a campaign's numbers (pure, no I/O)."""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from typing import Final
from uuid import UUID

from pulse_contracts.numbers import BookingNumbers, CampaignNumbers, PostNumbers
from pulse_contracts.post_urls import PostUrlError, parse_post_url

__all__ = [
    "COUNTERS",
    "CsvFormatError",
    "ImportRow",
    "RowError",
    "batches",
    "export_campaign_csv",
    "read_metrics_csv",
]

COUNTERS: Final = ("views", "likes", "comments", "shares", "saves")
FUTURE_TOLERANCE: Final = timedelta(minutes=5)
# The contracts' Counter upper bound; a larger number is a typo, not a metric.
MAX_COUNTER: Final = 10**15
# A line this long without a newline is not a metrics CSV; stop before it exhausts memory.
MAX_LINE_CHARS: Final = 1 << 20

_KNOWN_COLUMNS: Final = frozenset({"post_url", "post_id", "observed_at", "estimated", *COUNTERS})
_DELIMITERS: Final = (",", ";", "\t")
_EOL: Final = re.compile(r"\r\n|\n|\r")
_EXCEL_SEP: Final = re.compile(r"sep=([,;\t|])", re.IGNORECASE)
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
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


class CsvFormatError(ValueError):
    """The file as a whole cannot be imported; the message says why."""


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


# ---------------------------------------------------------------------------------------------
# Import


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
    lines = _LineSplitter().lines(chunks)
    header_at, header_line, delimiter = _find_header(lines)
    reader = csv.reader(itertools.chain([header_line], lines), delimiter=delimiter)
    header = _read_record(reader, header_at + 1)
    if header is None:  # pragma: no cover - the header line is known not to be blank
        raise CsvFormatError("the file has no header row")
    columns = _columns(header)
    latest = now + FUTURE_TOLERANCE
    urls = _UrlCache()
    rows = 0
    while True:
        # line_num counts the physical lines the reader consumed, header included.
        start = header_at + reader.line_num + 1
        record = _read_record(reader, start)
        if record is None:
            return
        if not any(cell.strip() for cell in record):
            continue
        rows += 1
        if rows > max_rows:
            raise CsvFormatError(f"the file has more than {max_rows} data rows")
        yield from _parse_row(start, record, columns, len(header), latest, urls)


class _LineSplitter:
    """Decodes UTF-8 chunks incrementally and yields physical lines, each with its line end."""

    def __init__(self) -> None:
        self.count = 0  # lines yielded so far
        self._parts: list[str] = []
        self._size = 0

    def lines(self, chunks: Iterable[bytes]) -> Iterator[str]:
        # utf-8-sig drops a leading BOM even when it is split across chunks.
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        for chunk in chunks:
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                raise self._not_utf8(exc) from None
            yield from self._feed(text)
        try:
            text = decoder.decode(b"", final=True)
        except UnicodeDecodeError as exc:
            raise self._not_utf8(exc) from None
        yield from self._feed(text)
        if self._parts:
            yield self._take()

    def _feed(self, text: str) -> Iterator[str]:
        if not text:
            return
        # A held-back "\r" ends its line unless this text continues it as "\r\n".
        if self._parts and self._parts[-1].endswith("\r") and not text.startswith("\n"):
            yield self._take()
        start = 0
        for match in _EOL.finditer(text):
            end = match.end()
            if end == len(text) and match.group() == "\r":
                # "\r\n" may be split across chunks: wait for the next one to decide.
                break
            self._parts.append(text[start:end])
            start = end
            yield self._take()
        rest = text[start:]
        if rest:
            self._parts.append(rest)
            self._size += len(rest)
            if self._size > MAX_LINE_CHARS:
                raise CsvFormatError(
                    f"line {self.count + 1} is longer than {MAX_LINE_CHARS} characters"
                )

    def _take(self) -> str:
        line = "".join(self._parts)
        self._parts.clear()
        self._size = 0
        self.count += 1
        return line

    def _not_utf8(self, exc: UnicodeDecodeError) -> CsvFormatError:
        # The chunk may hold many lines before the bad byte; count them to name the right one.
        valid = exc.object[: exc.start].decode("utf-8", errors="replace")
        line = self.count + 1 + len(_EOL.findall("".join(self._parts) + valid))
        return CsvFormatError(
            f"the file is not UTF-8 text (invalid bytes on line {line}); save it as 'CSV UTF-8'"
        )


def _find_header(lines: Iterator[str]) -> tuple[int, str, str]:
    """Skip leading blank lines and an Excel "sep=" hint; return (lines before, header, delim)."""
    skipped = 0
    delimiter: str | None = None
    for line in lines:
        text = line.strip()
        if not text:
            skipped += 1
            continue
        hint = _EXCEL_SEP.fullmatch(line.rstrip("\r\n"))
        if delimiter is None and hint is not None:
            # Excel writes "sep=;" as the first line and reads it back as the delimiter.
            delimiter = hint.group(1)
            skipped += 1
            continue
        return skipped, line, delimiter or _sniff(line)
    raise CsvFormatError("the file is empty: expected a header row naming the columns")


def _sniff(line: str) -> str:
    """Pick the delimiter that makes the header line name the most known columns."""
    best, best_score = ",", -1
    for delimiter in _DELIMITERS:
        try:
            names = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:
            continue
        score = len({_column_name(name) for name in names} & _KNOWN_COLUMNS)
        if score > best_score:  # ties keep the earlier, more common delimiter
            best, best_score = delimiter, score
    return best


def _read_record(reader: Iterator[list[str]], line: int) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        # The csv module cannot resynchronise after a malformed record, so stop the file here.
        raise CsvFormatError(f"line {line}: the CSV is malformed ({exc})") from None


def _column_name(raw: str) -> str:
    # "Observed At", " observed-at " and "OBSERVED_AT" all name the same column.
    return re.sub(r"[\s\-]+", "_", raw.strip().lower())


def _columns(header: Sequence[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = _column_name(raw)
        if name not in _KNOWN_COLUMNS:
            continue  # extra columns (notes, captions) are allowed and ignored
        if name in columns:
            raise CsvFormatError(f"column {name!r} appears more than once in the header")
        columns[name] = index
    missing: list[str] = []
    if "observed_at" not in columns:
        missing.append("observed_at")
    if "post_url" not in columns and "post_id" not in columns:
        missing.append("post_url or post_id")
    if not any(counter in columns for counter in COUNTERS):
        missing.append("at least one of " + ", ".join(COUNTERS))
    if missing:
        found = ", ".join(_column_name(raw) for raw in header if raw.strip()) or "none"
        raise CsvFormatError(
            f"missing required columns: {'; '.join(missing)} (header has: {_clip(found, 200)})"
        )
    return columns


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
                    f"observed_at: {_iso(observed_at)} is more than 5 minutes in the future",
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
    return repr(_clip(raw, 40))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def batches(rows: Iterable[ImportRow], size: int = 500) -> Iterator[list[ImportRow]]:
    """Group rows into lists of `size` (the last may be shorter), pulling rows lazily."""
    if size < 1:
        raise ValueError("size must be at least 1")
    return _batches(iter(rows), size)


def _batches(rows: Iterator[ImportRow], size: int) -> Iterator[list[ImportRow]]:
    while batch := list(itertools.islice(rows, size)):
        yield batch


# ---------------------------------------------------------------------------------------------
# Export

_POST_COLUMNS: Final = (
    "campaign",
    "influencer",
    "platform",
    "post_url",
    "posted_at",
    "observed_at",
    *COUNTERS,
    "engagement",
    "estimated",
)
_MONEY_COLUMNS: Final = ("currency", "booking_fee", "booking_kpi_pct")


def export_campaign_csv(
    doc: CampaignNumbers, *, influencer_names: Mapping[UUID, str], include_money: bool = True
) -> Iterator[str]:
    """Yield the campaign's CSV record by record: one row per tracked post, then the totals.

    Each string is one CSV record with its "\\r\\n" terminator (a quoted cell may hold a
    newline); the totals follow one blank line. Counters the platform does not expose are
    "n/a". Without include_money no fee, currency, booking KPI, spend, cpm or cpe is written.
    """
    return _export(doc, influencer_names, include_money)


def _export(
    doc: CampaignNumbers, influencer_names: Mapping[UUID, str], include_money: bool
) -> Iterator[str]:
    campaign = doc.campaign
    bookings = {booking.booking_id: booking for booking in doc.bookings}
    currency = campaign.currency or ""
    yield _record([*_POST_COLUMNS, *(_MONEY_COLUMNS if include_money else ())])
    for post in doc.posts:
        booking = bookings.get(post.booking_id)
        cells = _post_cells(campaign.name or "", post, booking, influencer_names)
        if include_money:
            cells += [
                currency,
                _money(booking.fee_cents) if booking is not None else "",
                _number(booking.kpi_pct) if booking is not None else "",
            ]
        yield _record(cells)

    yield "\r\n"
    totals: list[tuple[str, str]] = [
        ("campaign", campaign.name or ""),
        ("as_of", _iso(doc.as_of)),
        ("actual_views", str(campaign.actual_views)),
        ("actual_engagement", str(campaign.actual_engagement)),
        ("actual_posts", str(campaign.actual_posts)),
        ("committed_views", _number(campaign.committed_views)),
        ("committed_engagement", _number(campaign.committed_engagement)),
        ("committed_posts", _number(campaign.committed_posts)),
        ("views_pct", _number(campaign.views_pct)),
        ("engagement_pct", _number(campaign.engagement_pct)),
        ("posts_pct", _number(campaign.posts_pct)),
        ("kpi_pct", _number(campaign.kpi_pct)),
        ("engagement_rate", _number(campaign.engagement_rate)),
    ]
    if include_money:
        totals += [
            ("currency", currency),
            ("spend", _money(campaign.spend_cents)),
            ("cpm", _number(campaign.cpm)),
            ("cpe", _number(campaign.cpe)),
        ]
    yield _record(["totals", "value"])
    for name, value in totals:
        yield _record([name, value])


def _post_cells(
    campaign_name: str,
    post: PostNumbers,
    booking: BookingNumbers | None,
    influencer_names: Mapping[UUID, str],
) -> list[str]:
    influencer_id = post.influencer_id or (booking.influencer_id if booking else None)
    name = influencer_names.get(influencer_id, "") if influencer_id is not None else ""
    latest = post.latest
    if latest is None:
        # Not yet observed: every counter is unknown, which is not the same as 0.
        measured = ["", *(_number(None) for _ in COUNTERS), _number(None), ""]
    else:
        measured = [
            _iso(latest.observed_at),
            *(_number(getattr(latest, counter)) for counter in COUNTERS),
            str(latest.engagement),
            "yes" if latest.estimated else "no",
        ]
    return [
        campaign_name,
        name,
        post.platform,
        post.url or "",
        _iso(post.posted_at) if post.posted_at is not None else "",
        *measured,
    ]


def _record(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([_neutralise(cell) for cell in cells])
    return buffer.getvalue()


def _neutralise(cell: str) -> str:
    # Names, captions and URLs come from outside; a leading "=", "+", "-", "@", tab or CR
    # would make a spreadsheet evaluate the cell as a formula (CSV injection).
    return "'" + cell if cell.startswith(_FORMULA_START) else cell


def _number(value: int | float | None) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)


def _money(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(cents), 100)
    return f"{sign}{whole}.{rest:02d}"


def _iso(value: datetime) -> str:
    # Timestamps without a zone are UTC throughout Pulse.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
