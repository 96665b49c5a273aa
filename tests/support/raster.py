"""PDFs as a reader sees them: pages rasterised by poppler's pdftoppm, measured in pixels.

A PDF can carry every number right and still draw its bars and charts as black blobs (a fill
the renderer did not resolve); only the pixels show that. The helpers here find a colour on
a page and measure horizontal bars: a run of fill followed by its lighter track.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

RGB = tuple[int, int, int]
TRACK = (0xE6, 0xE8, 0xEE)  # the report's bar track
WHITE = (255, 255, 255)


def hex_rgb(color: str) -> RGB:
    return (int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16))


def rasterise(pdf: bytes, *, dpi: int = 100, keep_as: Path | None = None) -> list[Image.Image]:
    """Every page as an RGB image; `keep_as` also writes them as PNGs to look at."""
    if shutil.which("pdftoppm") is None:
        raise RuntimeError("no pdftoppm: install poppler-utils")
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "report.pdf"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-r", str(dpi), "-png", str(source), str(Path(tmp) / "page")],
            check=True,
            timeout=60,
        )
        pages = [Image.open(p).convert("RGB") for p in sorted(Path(tmp).glob("page-*.png"))]
    if keep_as is not None:
        keep_as.parent.mkdir(parents=True, exist_ok=True)
        for number, page in enumerate(pages, 1):
            page.save(keep_as.with_name(f"{keep_as.stem}-{number}.png"))
    return pages


def near(pixel: RGB, color: RGB, tolerance: int) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, color, strict=True))


def blend(color: RGB, opacity: float) -> RGB:
    """`color` drawn at `opacity` over white paper."""
    r, g, b = (round(c * opacity + 255 * (1 - opacity)) for c in color)
    return (r, g, b)


def _pixels(page: Image.Image) -> list[RGB]:
    raw = page.tobytes()
    return [(raw[i], raw[i + 1], raw[i + 2]) for i in range(0, len(raw), 3)]


def count_near(page: Image.Image, color: RGB, tolerance: int = 12) -> int:
    return sum(1 for pixel in _pixels(page) if near(pixel, color, tolerance))


def dark_share(page: Image.Image) -> float:
    """The share of the page that is near black (text is thin; a black blob is not)."""
    pixels = _pixels(page)
    return sum(1 for p in pixels if max(p) < 60) / len(pixels)


@dataclass(frozen=True)
class MeasuredBar:
    row: int
    left: int
    filled: float  # pixels of the fill colour (mixed edge pixels counted by their share)
    length: int  # the whole bar: fill plus track

    @property
    def pct(self) -> float:
        return 100 * self.filled / self.length


def _fill_weight(pixel: RGB, fill: RGB) -> float | None:
    """How much of a pixel is fill, if it is fill, track or an anti-aliased mix of the two
    (the edge pixel of a sliver of a bar); None for anything else."""
    if near(pixel, TRACK, 8):
        return 0.0
    d = [f - t for f, t in zip(fill, TRACK, strict=True)]
    v = [c - t for c, t in zip(pixel, TRACK, strict=True)]
    norm = sum(c * c for c in d)
    t = sum(a * b for a, b in zip(v, d, strict=True)) / norm
    residual = sum((a - t * b) ** 2 for a, b in zip(v, d, strict=True)) ** 0.5
    if residual > 18 or t < 0.1 or t > 1.08:
        return None  # not on the way from track to fill (a tint such as the chart's area)
    return min(max(t, 0.0), 1.0)


def bars(page: Image.Image, fill: RGB, *, min_length: int = 80) -> list[MeasuredBar]:
    """Horizontal bars on a page: a run that starts with `fill` and goes on as the track.

    Pixels mixing fill and track (anti-aliasing at the fill's end, a bar thinner than a
    pixel) count for the share of fill they carry; a few other pixels inside a run (the
    timeline's thin marker) count as track. One bar spans several pixel rows: the middle row
    of each is kept."""
    width, height = page.size
    pixels = page.load()
    assert pixels is not None
    found: list[MeasuredBar] = []
    for y in range(height):
        x = 0
        while x < width:
            pixel = pixels[x, y]
            if pixel == WHITE:  # most of a page: skipped without arithmetic
                x += 1
                continue
            first = _fill_weight(pixel, fill)
            if first is None or first < 0.15:
                x += 1
                continue
            left, filled, gap, end, in_track, mixed = x, 0.0, 0, x, False, 0
            while x < width:
                weight = _fill_weight(pixels[x, y], fill)
                if weight is None:
                    gap += 1
                    if gap > 6:
                        break
                elif in_track and weight > 0.85:
                    break  # fill again after the track: the next shape
                else:
                    filled += weight
                    mixed += 0.1 < weight < 0.85
                    in_track = in_track or weight < 0.5
                    gap = 0
                    end = x
                x += 1
            length = end - left + 1
            # A bar is solid fill, then solid track: only its edge pixels mix the two (a
            # translucent area or a gradient mixes them all along).
            if length >= min_length and mixed <= 4:
                found.append(MeasuredBar(y, left, filled, length))
    return _middle_rows(found)


def _middle_rows(found: list[MeasuredBar]) -> list[MeasuredBar]:
    groups: list[list[MeasuredBar]] = []
    for bar in found:
        for group in groups:
            last = group[-1]
            if bar.row == last.row + 1 and abs(bar.left - last.left) <= 2:
                group.append(bar)
                break
        else:
            groups.append([bar])
    return [group[len(group) // 2] for group in groups]
