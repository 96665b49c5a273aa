"""The PDF renderer's own guarantees: a header-safe file name, and no fetch of anything remote."""

from __future__ import annotations

import io
import socket
from collections.abc import Iterator

import pytest
from pypdf import PdfReader

from pulse_report.pdf import DataOnlyFetcher as _DataOnlyFetcher
from pulse_report.pdf import render_pdf, report_filename


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Glow Serum Launch", "glow-serum-launch-report.pdf"),
        ("Lumière — Été 2026!", "lumiere-ete-2026-report.pdf"),
        ('a"b\r\nContent-Type: text/html', "a-b-content-type-text-html-report.pdf"),
        ("東京", "campaign-report.pdf"),
        ("x" * 200, "x" * 60 + "-report.pdf"),
    ],
)
def test_the_file_name_is_an_ascii_slug(name: str, expected: str) -> None:
    assert report_filename(name) == expected


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    server.setblocking(False)
    yield server
    server.close()


def test_rendering_fetches_nothing_remote(listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Dw"
        "HwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
    )
    html = (
        f'<html><head><link rel="stylesheet" href="http://127.0.0.1:{port}/x.css"></head><body>'
        f'<p>Report</p><img src="http://127.0.0.1:{port}/logo.png">'
        f'<img src="https://127.0.0.1:{port}/thumb.jpeg"><img src="file:///etc/passwd">'
        f'<img src="{pixel}"></body></html>'
    )
    pdf = render_pdf(html)
    assert "Report" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    with pytest.raises(BlockingIOError):
        listener.accept()  # nobody knocked


def test_the_fetcher_admits_data_uris_only() -> None:
    fetcher = _DataOnlyFetcher()
    for url in ("http://169.254.169.254/latest/", "https://p16.tiktokcdn.com/a.jpeg", "file:///"):
        with pytest.raises(ValueError, match="not fetched"):
            fetcher.fetch(url)
    assert fetcher.fetch("data:text/plain,hello").read() == b"hello"
