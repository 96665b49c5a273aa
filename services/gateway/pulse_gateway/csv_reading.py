"""A CSV file as it is read: UTF-8 lines however the chunks fall, the header row, its delimiter
and its columns (pure, no I/O)."""

from __future__ import annotations

import codecs
import csv
import re
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from typing import Final

COUNTERS: Final = ("views", "likes", "comments", "shares", "saves")
# A line this long without a newline is not a metrics CSV; stop before it exhausts memory.
MAX_LINE_CHARS: Final = 1 << 20

_KNOWN_COLUMNS: Final = frozenset({"post_url", "post_id", "observed_at", "estimated", *COUNTERS})
_DELIMITERS: Final = (",", ";", "\t")
_EOL: Final = re.compile(r"\r\n|\n|\r")
_EXCEL_SEP: Final = re.compile(r"sep=([,;\t|])", re.IGNORECASE)


class CsvFormatError(ValueError):
    """The file as a whole cannot be imported; the message says why."""


class LineSplitter:
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


def find_header(lines: Iterator[str]) -> tuple[int, str, str]:
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
        return skipped, line, delimiter or sniff(line)
    raise CsvFormatError("the file is empty: expected a header row naming the columns")


def sniff(line: str) -> str:
    """Pick the delimiter that makes the header line name the most known columns."""
    best, best_score = ",", -1
    for delimiter in _DELIMITERS:
        try:
            names = next(csv.reader([line], delimiter=delimiter), [])
        except csv.Error:
            continue
        score = len({column_name(name) for name in names} & _KNOWN_COLUMNS)
        if score > best_score:  # ties keep the earlier, more common delimiter
            best, best_score = delimiter, score
    return best


def read_record(reader: Iterator[list[str]], line: int) -> list[str] | None:
    try:
        return next(reader)
    except StopIteration:
        return None
    except csv.Error as exc:
        # The csv module cannot resynchronise after a malformed record, so stop the file here.
        raise CsvFormatError(f"line {line}: the CSV is malformed ({exc})") from None


def column_name(raw: str) -> str:
    # "Observed At", " observed-at " and "OBSERVED_AT" all name the same column.
    return re.sub(r"[\s\-]+", "_", raw.strip().lower())


def header_columns(header: Sequence[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for index, raw in enumerate(header):
        name = column_name(raw)
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
        found = ", ".join(column_name(raw) for raw in header if raw.strip()) or "none"
        raise CsvFormatError(
            f"missing required columns: {'; '.join(missing)} (header has: {clip(found, 200)})"
        )
    return columns


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def iso(value: datetime) -> str:
    """How a CSV file writes a time: ISO-8601 in UTC with a Z."""
    # Timestamps without a zone are UTC throughout Pulse.
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")
