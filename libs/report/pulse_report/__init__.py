"""The campaign report, drawn once for every audience: HTML page, SVG chart and A4 PDF.

The client's report is this package's neutral view model (model.py) and nothing more; the
agency's internal figures live in pulse_report.staff, which this package does not import.
"""

from .html import SECTIONS, Page, render_page, report_page
from .model import (
    CampaignReport,
    ReportCampaign,
    ReportClient,
    ReportCounters,
    ReportCreator,
    ReportCreatorEmv,
    ReportDay,
    ReportEmv,
    ReportForecast,
    ReportKpis,
    ReportPlatform,
    ReportPost,
    from_fields,
)
from .pdf import render_pdf, render_pdf_documents, report_filename, report_pdf

__all__ = [
    "SECTIONS",
    "CampaignReport",
    "Page",
    "ReportCampaign",
    "ReportClient",
    "ReportCounters",
    "ReportCreator",
    "ReportCreatorEmv",
    "ReportDay",
    "ReportEmv",
    "ReportForecast",
    "ReportKpis",
    "ReportPlatform",
    "ReportPost",
    "from_fields",
    "render_page",
    "render_pdf",
    "render_pdf_documents",
    "report_filename",
    "report_page",
    "report_pdf",
]
