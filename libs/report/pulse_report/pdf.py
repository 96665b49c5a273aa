"""Reports as A4 PDFs: WeasyPrint with a fetcher that admits data: URIs only, bounded renders.

WeasyPrint (with Pango, fontTools and their caches: tens of MB and about a second to import) is
loaded by the first render, not with this module: the gateway and the share service import the
report for its HTML on every start, and most of their processes never print a PDF.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Callable, Sequence
from functools import cache
from types import ModuleType
from typing import Any

from .html import report_page
from .model import CampaignReport

MAX_SLUG = 60


@cache
def _weasyprint() -> ModuleType:
    with warnings.catch_warnings():
        # Without the system's HarfBuzz-Subset library WeasyPrint subsets fonts with fontTools
        # and says so at import, as a DeprecationWarning; the PDFs are the same.
        warnings.filterwarnings("ignore", message="HarfBuzz-Subset", category=DeprecationWarning)
        import weasyprint  # type: ignore[import-untyped]
    module: ModuleType = weasyprint
    return module


@cache
def _data_only_fetcher() -> type[Any]:
    weasyprint = _weasyprint()

    class DataOnlyFetcher(weasyprint.URLFetcher):  # type: ignore[misc,name-defined]
        """Refuses every URL but inline data: URIs.

        The report is rendered on the server, so anything the renderer fetched would be fetched
        from inside our network on behalf of whoever can edit a client's logo or a post's
        thumbnail (SSRF: internal addresses, metadata endpoints, file: URLs), and each fetch
        would hold a render slot for up to its timeout (a slow or dead CDN would stall every
        report). The print layout already swaps remote images for placeholders; this is the
        guarantee behind it."""

        def __init__(self) -> None:
            super().__init__(timeout=1, allowed_protocols=("data",), allow_redirects=False)

        def fetch(self, url: str, headers: Any = None) -> Any:
            if not url[:5].lower() == "data:":
                raise ValueError("remote resources are not fetched while rendering a report")
            return super().fetch(url, headers)

    return DataOnlyFetcher


def __getattr__(name: str) -> Any:
    # `pulse_report.pdf.DataOnlyFetcher` still names the fetcher; asking for it loads WeasyPrint.
    if name == "DataOnlyFetcher":
        return _data_only_fetcher()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def render_pdf(html: str) -> bytes:
    """HTML to an A4 PDF (the page size and margins are the stylesheet's @page). CPU-bound:
    call it off the event loop."""
    weasyprint = _weasyprint()
    source = weasyprint.HTML(string=html, base_url=None, url_fetcher=_data_only_fetcher()())
    document = source.render()  # the layout: most of the time
    pdf: bytes = document.write_pdf()
    return pdf


def render_pdf_documents(
    htmls: Sequence[str], *, rendered: Callable[[int], None] | None = None
) -> bytes:
    """Several HTML documents as one PDF, in order (a custom report of several campaigns);
    `rendered(n)` is told after each document's layout, for progress."""
    if len(htmls) == 1 and rendered is None:
        return render_pdf(htmls[0])
    weasyprint = _weasyprint()
    documents = []
    for n, html in enumerate(htmls, start=1):
        source = weasyprint.HTML(string=html, base_url=None, url_fetcher=_data_only_fetcher()())
        documents.append(source.render())
        if rendered is not None:
            rendered(n)
    pages = [page for document in documents for page in document.pages]
    pdf: bytes = documents[0].copy(pages).write_pdf()
    return pdf


def report_pdf(report: CampaignReport) -> bytes:
    """The client report, printable: the same view model through the same template."""
    return render_pdf(report_page(report, for_print=True).html)


def report_filename(campaign_name: str) -> str:
    """`<slug>-report.pdf`, ASCII letters, digits and hyphens only, safe in a header."""
    ascii_name = unicodedata.normalize("NFKD", campaign_name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:MAX_SLUG].strip("-")
    return f"{slug or 'campaign'}-report.pdf"
