"""CSV import of metric samples: streaming, header variants, row errors, the file as a whole."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from uuid import UUID

import pytest

from pulse_gateway.csv_import import ImportRow, RowError, batches, read_metrics_csv
from pulse_gateway.csv_reading import CsvFormatError

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
TIKTOK = "https://www.tiktok.com/@creator/video/7433917265401856302"
POST_ID = UUID("5a0c3f8e-7a51-4d8e-9a55-0d6b1f1c2e3a")


def read(text: str | bytes, max_rows: int = 200_000) -> list[ImportRow | RowError]:
    data = text.encode() if isinstance(text, str) else text
    return list(read_metrics_csv([data], now=NOW, max_rows=max_rows))


def one_row(text: str) -> ImportRow:
    [row] = read(text)
    assert isinstance(row, ImportRow), row
    return row


def errors_of(text: str) -> list[RowError]:
    results = read(text)
    assert all(isinstance(r, RowError) for r in results), results
    return [r for r in results if isinstance(r, RowError)]


# --- import: the happy path ------------------------------------------------------------------


def test_rows_come_out_with_line_numbers_and_values() -> None:
    text = (
        "post_url,post_id,observed_at,views,likes,comments,shares,saves,estimated\n"
        f"{TIKTOK},,2026-11-20T10:00:00Z,1843211,152044,2311,1200,800,\n"
        f",{POST_ID},2026-11-19,10,,0,,,yes\n"
    )
    first, second = read(text)
    assert first == ImportRow(
        line=2,
        post_id=None,
        post_url=TIKTOK,
        observed_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        views=1843211,
        likes=152044,
        comments=2311,
        shares=1200,
        saves=800,
        estimated=False,
    )
    assert second == ImportRow(
        line=3,
        post_id=POST_ID,
        post_url=None,
        observed_at=datetime(2026, 11, 19, tzinfo=UTC),
        views=10,
        likes=None,
        comments=0,
        shares=None,
        saves=None,
        estimated=True,
    )


def test_post_url_is_canonicalised() -> None:
    row = one_row(
        "post_url,observed_at,views\nwww.instagram.com/reels/CxAbCdEfG/?igsh=1,2026-11-20,5\n"
    )
    assert row.post_url == "https://www.instagram.com/reel/CxAbCdEfG/"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("views\n\n", None, id="empty-cell"),
        pytest.param("views\n n/a \n", None, id="n/a-as-exported"),
        pytest.param("views\nN/A\n", None, id="N/A"),
        pytest.param("views\n0\n", 0, id="zero-is-measured"),
    ],
)
def test_missing_counter_stays_none_never_zero(text: str, expected: int | None) -> None:
    header, cell = text.splitlines()[:2]
    row = one_row(f"post_id,observed_at,likes,{header}\n{POST_ID},2026-11-20,1,{cell}\n")
    assert row.views == expected
    assert row.likes == 1


def test_counter_columns_are_optional() -> None:
    row = one_row(f"post_id,observed_at,saves\n{POST_ID},2026-11-20,3\n")
    assert (row.views, row.likes, row.comments, row.shares, row.saves) == (None,) * 4 + (3,)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("1234", 1234),
        ('"1,234"', 1234),
        ('"1,234,567"', 1234567),
        ("1 234", 1234),
        ("1_234_567", 1234567),
        ("1\u00a0234", 1234),
        (" 42 ", 42),
        ("007", 7),
    ],
)
def test_thousands_separators(cell: str, expected: int) -> None:
    row = one_row(f"post_id,observed_at,views\n{POST_ID},2026-11-20,{cell}\n")
    assert row.views == expected


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2026-11-20T10:00:00Z", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T10:00:00.250Z", datetime(2026, 11, 20, 10, 0, 0, 250000, tzinfo=UTC)),
        ("2026-11-20T12:00:00+02:00", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T05:30:00-0430", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T10:00:00", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20 10:00", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20 10:00:59", datetime(2026, 11, 20, 10, 0, 59, tzinfo=UTC)),
        ("2026-11-20", datetime(2026, 11, 20, tzinfo=UTC)),
    ],
)
def test_observed_at_formats(cell: str, expected: datetime) -> None:
    row = one_row(f"post_id,observed_at,views\n{POST_ID},{cell},1\n")
    assert row.observed_at == expected
    assert row.observed_at.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("", False),
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("Yes", True),
        ("false", False),
        ("0", False),
        ("no", False),
    ],
)
def test_estimated_flag(cell: str, expected: bool) -> None:
    row = one_row(f"post_id,observed_at,views,estimated\n{POST_ID},2026-11-20,1,{cell}\n")
    assert row.estimated is expected


# --- import: header variants -----------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(
            f"post_id,observed_at,views\r\n{POST_ID},2026-11-20,7\r\n".encode(), id="crlf"
        ),
        pytest.param(
            b"\xef\xbb\xbf" + f"post_id,observed_at,views\n{POST_ID},2026-11-20,7\n".encode(),
            id="bom",
        ),
        pytest.param(
            f"  POST_ID , Observed_At ,VIEWS\n{POST_ID},2026-11-20,7\n".encode(), id="case-trim"
        ),
        pytest.param(
            f"Post ID,Observed-At,Views\n{POST_ID},2026-11-20,7\n".encode(), id="spaces-hyphens"
        ),
        pytest.param(f"post_id;observed_at;views\n{POST_ID};2026-11-20;7\n".encode(), id="semi"),
        pytest.param(f"post_id\tobserved_at\tviews\n{POST_ID}\t2026-11-20\t7\n".encode(), id="tab"),
        pytest.param(
            f"\ufeffsep=;\nPost_ID;Observed_At;Views\n{POST_ID};2026-11-20;7\n".encode(),
            id="excel-sep-hint",
        ),
        pytest.param(f"post_id,observed_at,views\r{POST_ID},2026-11-20,7\r".encode(), id="cr-only"),
        pytest.param(f"post_id,observed_at,views\n{POST_ID},2026-11-20,7".encode(), id="no-eol"),
    ],
)
def test_header_variants(data: bytes) -> None:
    [row] = read(data)
    assert isinstance(row, ImportRow)
    assert (row.post_id, row.views, row.observed_at) == (
        POST_ID,
        7,
        datetime(2026, 11, 20, tzinfo=UTC),
    )


def test_semicolon_file_takes_unquoted_thousands_separators() -> None:
    row = one_row(f"post_id;observed_at;views;likes\n{POST_ID};2026-11-20;1,234;5 678\n")
    assert (row.views, row.likes) == (1234, 5678)


def test_unknown_columns_are_ignored() -> None:
    row = one_row(f"note,post_id,observed_at,reach,views\nhi,{POST_ID},2026-11-20,9,1\n")
    assert row.views == 1


# --- import: row errors ----------------------------------------------------------------------

HEADER = "post_url,post_id,observed_at,views,likes,comments,shares,saves,estimated\n"


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        (",not-a-uuid,2026-11-20,1,,,,,", "post_id", "post_id: 'not-a-uuid' is not a UUID"),
        ("https://example.com/x,,2026-11-20,1,,,,,", "post_url", "post_url: unsupported host"),
        ("ftp://tiktok.com/@a/video/1,,2026-11-20,1,,,,,", "post_url", "post_url: unsupported"),
        (",,2026-11-20,1,,,,,", "post_url", "post_url or post_id is required"),
        (f"{TIKTOK},,,1,,,,,", "observed_at", "observed_at is required"),
        (f"{TIKTOK},,20/11/2026,1,,,,,", "observed_at", "observed_at: '20/11/2026' is not a"),
        (f"{TIKTOK},,2026-13-01,1,,,,,", "observed_at", "observed_at: '2026-13-01' is not a"),
        (f"{TIKTOK},,2026-11-20T25:00Z,1,,,,,", "observed_at", "is not a date-time"),
        (f"{TIKTOK},,2026-11-20T10:00+24:00,1,,,,,", "observed_at", "is not a date-time"),
        (f"{TIKTOK},,2026-11-20,abc,,,,,", "views", "views: 'abc' is not a whole number ≥ 0"),
        (f"{TIKTOK},,2026-11-20,,-5,,,,", "likes", "likes: '-5' is not a whole number ≥ 0"),
        (f"{TIKTOK},,2026-11-20,,,1.5,,,", "comments", "comments: '1.5' is not a whole number"),
        (f'{TIKTOK},,2026-11-20,,,,"12,34",,', "shares", "shares: '12,34' is not a whole number"),
        (f'{TIKTOK},,2026-11-20,,,,,"1,234 567",', "saves", "saves: '1,234 567' is not a whole"),
        (f"{TIKTOK},,2026-11-20,1e3,,,,,", "views", "views: '1e3' is not a whole number"),
        (f"{TIKTOK},,2026-11-20,{10**16},,,,,", "views", "is larger than 1,000,000,000,000,000"),
        (f"{TIKTOK},,2026-11-20,1,,,,,maybe", "estimated", "estimated: 'maybe' is not one of"),
        (f"{TIKTOK},,2026-11-20,,,,,,", None, "no counters: at least one of views"),
        (f"{TIKTOK},,2026-11-20,1,234,,,,,no", None, "row has 10 cells but the header has 9"),
    ],
)
def test_row_errors_name_line_and_field(row: str, field: str | None, message: str) -> None:
    text = HEADER + f"{TIKTOK},,2026-11-20,1,,,,,\n" + row + "\n"
    good, error = read(text)
    assert isinstance(good, ImportRow)
    assert isinstance(error, RowError)
    assert (error.line, error.field) == (3, field)
    assert message in error.message


def test_trailing_empty_cells_are_not_a_shape_error() -> None:
    row = one_row(f"post_id,observed_at,views\n{POST_ID},2026-11-20,1,,,\n")
    assert row.views == 1


def test_short_row_reads_missing_cells_as_empty() -> None:
    required, no_counter = errors_of(f"post_id,observed_at,views,likes\n{POST_ID}\n")
    assert (required.line, required.field) == (2, "observed_at")
    assert required.message == "observed_at is required"
    assert (no_counter.line, no_counter.field) == (2, None)


def test_every_problem_of_a_row_is_reported() -> None:
    errors = errors_of(HEADER + "nope,bad,,x,-1,,,,perhaps\n")
    assert [(e.line, e.field) for e in errors] == [
        (2, "post_id"),
        (2, "post_url"),
        (2, "observed_at"),
        (2, "views"),
        (2, "likes"),
        (2, "estimated"),
    ]


def test_long_values_are_clipped_in_messages() -> None:
    [error] = errors_of(f"post_id,observed_at,views\n{POST_ID},2026-11-20,{'x' * 5000}\n")
    assert len(error.message) < 120


def test_missing_identifier_names_the_column_the_file_has() -> None:
    [error] = errors_of("post_id,observed_at,views\n,2026-11-20,1\n")
    assert error.field == "post_id"


def test_future_cutoff_is_exactly_five_minutes() -> None:
    at_limit = NOW + timedelta(minutes=5)
    over = at_limit + timedelta(seconds=1)
    text = (
        "post_id,observed_at,views\n"
        f"{POST_ID},{at_limit.isoformat()},1\n"
        f"{POST_ID},{over.isoformat()},1\n"
        f"{POST_ID},2026-11-20T14:04:00+02:00,1\n"  # 12:04 UTC: in the past in UTC terms
    )
    ok, error, offset = read(text)
    assert isinstance(ok, ImportRow)
    assert ok.observed_at == at_limit
    assert error == RowError(
        3, "observed_at", "observed_at: 2026-11-20T12:05:01Z is more than 5 minutes in the future"
    )
    assert isinstance(offset, ImportRow)


def test_now_in_another_zone_is_the_same_instant() -> None:
    now = NOW.astimezone(datetime.now(UTC).astimezone().tzinfo)
    text = f"post_id,observed_at,views\n{POST_ID},2026-11-20T12:05:00Z,1\n"
    [row] = read_metrics_csv([text.encode()], now=now)
    assert isinstance(row, ImportRow)


def test_line_numbers_count_physical_lines() -> None:
    text = (
        "\n"  # blank line before the header
        "note,post_id,observed_at,views\n"
        f'"two\nlines",{POST_ID},2026-11-20,1\n'
        "\n"
        ",,,\n"
        f"x,{POST_ID},2026-11-20,bad\n"
        f"x,{POST_ID},2026-11-20,2\n"
    )
    results = read(text)
    assert [r.line for r in results] == [3, 7, 8]
    assert isinstance(results[1], RowError)


# --- import: the file as a whole -------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        pytest.param(b"", "the file is empty", id="empty"),
        pytest.param(b"\xef\xbb\xbf\n \n", "the file is empty", id="blank"),
        pytest.param(
            "post_id,observed_at,views\nx,2026-11-20,caf\xe9\n".encode("latin-1"),
            "the file is not UTF-8 text (invalid bytes on line 2)",
            id="latin-1",
        ),
        pytest.param(b"post_id,views\n", "missing required columns: observed_at", id="observed"),
        pytest.param(
            b"observed_at,views\n",
            "missing required columns: post_url or post_id",
            id="no-identifier",
        ),
        pytest.param(
            b"url,observed_at,views\n",
            "missing required columns: post_url or post_id (header has: url, observed_at, views)",
            id="wrong-name",
        ),
        pytest.param(
            b"post_id,observed_at,reach\n",
            "missing required columns: at least one of views, likes",
            id="no-counter",
        ),
        pytest.param(b"views\n", "observed_at; post_url or post_id", id="both-missing"),
        pytest.param(
            b"post_id,observed_at,views,Views\n",
            "column 'views' appears more than once",
            id="duplicate",
        ),
    ],
)
def test_unusable_files(data: bytes, message: str) -> None:
    with pytest.raises(CsvFormatError, match=re.escape(message)):
        read(data)


def test_unterminated_utf8_at_end_of_file() -> None:
    with pytest.raises(CsvFormatError, match="not UTF-8"):
        read(f"post_id,observed_at,views\n{POST_ID},2026-11-20,1\n".encode() + b"\xc3")


def test_endless_line_is_refused() -> None:
    chunks = (b"x" * 65536 for _ in range(100))
    with pytest.raises(CsvFormatError, match="line 1 is longer than"):
        list(read_metrics_csv(chunks, now=NOW))


def test_max_rows() -> None:
    body = "".join(f"{POST_ID},2026-11-20,{i}\n\n" for i in range(3))  # blank lines do not count
    assert len(read("post_id,observed_at,views\n" + body, max_rows=3)) == 3

    results = read_metrics_csv(
        [f"post_id,observed_at,views\n{body}{POST_ID},2026-11-20,9\n".encode()],
        now=NOW,
        max_rows=3,
    )
    assert len([next(results) for _ in range(3)]) == 3
    with pytest.raises(CsvFormatError, match="more than 3 data rows"):
        next(results)


def test_bad_arguments_fail_at_the_call() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        read_metrics_csv([], now=datetime(2026, 11, 20))
    with pytest.raises(ValueError, match="max_rows"):
        read_metrics_csv([], now=NOW, max_rows=0)


# --- import: streaming -----------------------------------------------------------------------


def test_streams_chunks_split_mid_line_and_mid_character() -> None:
    rows = 2000
    lines = ["note;post_id;observed_at;views;likes\r\n"]
    lines += [f"zürich 🎉 {i};{POST_ID};2026-11-20 10:00;{i};\r\n" for i in range(rows)]
    data = "".join(lines).encode()
    size = 7  # odd size: splits "\r\n", "ü" (2 bytes) and "🎉" (4 bytes) at many offsets
    chunk_count = -(-len(data) // size)
    consumed = 0

    def chunks() -> Iterator[bytes]:
        nonlocal consumed
        for start in range(0, len(data), size):
            consumed += 1
            yield data[start : start + size]

    results = read_metrics_csv(chunks(), now=NOW)
    first = next(results)
    assert isinstance(first, ImportRow)
    assert (first.line, first.views, first.likes) == (2, 0, None)
    assert consumed < 50, "the first row needs only the first lines of the file"

    halfway = [next(results) for _ in range(rows // 2 - 1)]
    assert consumed < chunk_count

    rest = list(results)
    assert consumed == chunk_count
    everything = [first, *halfway, *rest]
    assert all(isinstance(r, ImportRow) for r in everything)
    assert [r.views for r in everything if isinstance(r, ImportRow)] == list(range(rows))
    assert [r.line for r in everything] == list(range(2, rows + 2))


@pytest.mark.parametrize("size", [1, 2, 3, 5])
def test_any_chunking_gives_the_same_rows(size: int) -> None:
    data = (
        b"\xef\xbb\xbfnote,post_id,observed_at,views\r"
        + f'"caf\u00e9\r\nau lait",{POST_ID},2026-11-20,1\r'.encode()
        + f"\u00fc,{POST_ID},2026-11-20,bad\r\n".encode()
        + f"x,{POST_ID},2026-11-20,3\n".encode()
    )
    whole = list(read_metrics_csv([data], now=NOW))
    split = list(read_metrics_csv((data[i : i + size] for i in range(0, len(data), size)), now=NOW))
    assert split == whole
    assert [r.line for r in whole] == [2, 4, 5]


def test_batches() -> None:
    rows = [one_row(f"post_id,observed_at,views\n{POST_ID},2026-11-20,{i}\n") for i in range(5)]
    assert [len(b) for b in batches(rows, size=2)] == [2, 2, 1]
    assert list(batches([], size=2)) == []
    assert [b[0].views for b in batches(rows)] == [0]


def test_batches_pull_lazily() -> None:
    pulled = 0
    row = one_row(f"post_id,observed_at,views\n{POST_ID},2026-11-20,1\n")

    def endless() -> Iterator[ImportRow]:
        nonlocal pulled
        while True:
            pulled += 1
            yield row

    first = next(batches(endless(), size=3))
    assert (len(first), pulled) == (3, 3)
    with pytest.raises(ValueError, match="size"):
        batches([], size=0)
