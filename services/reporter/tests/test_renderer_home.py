"""The PDF renderer (WeasyPrint, with Pango and fontTools: tens of MB) lives in the reporter
only: the gateway and share build their apps, pages and report jobs without ever loading it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

SERVICES = Path(__file__).resolve().parents[2]
# Each app built as it is served, plus every module of the report paths they still use.
BUILD_APPS = """
import sys
from pulse_gateway.app import create_app as gateway_app
from pulse_gateway.settings import GatewaySettings
from pulse_share.app import ShareSettings, create_app as share_app
import pulse_gateway.reports, pulse_gateway.report_jobs, pulse_gateway.pages.reports
import pulse_share.report_jobs, pulse_share.render
gateway_app(GatewaySettings.load(environ={}, env="test"))
share_app(ShareSettings.load(environ={}, env="test"))
print("\\n".join(sorted(sys.modules)))
"""
RENDER_ONCE = """
import sys
sys.path.insert(0, {tests!r})
from jobs import job
from pulse_reporter.render import render_file
assert render_file(job(), lambda _: None).content.startswith(b"%PDF")
print("\\n".join(sorted(sys.modules)))
"""


def loaded(code: str) -> set[str]:
    found = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    )
    return set(found.stdout.split())


def test_the_gateway_and_share_apps_never_load_the_pdf_renderer() -> None:
    modules = loaded(BUILD_APPS)
    assert "pulse_gateway.app" in modules
    assert "pulse_share.app" in modules
    assert "weasyprint" not in modules
    assert not any(m.startswith(("weasyprint.", "fontTools", "pydyf")) for m in modules)


@pytest.mark.parametrize("package", ["gateway/pulse_gateway", "share/pulse_share"])
def test_no_module_of_the_gateway_or_share_can_reach_the_renderer(package: str) -> None:
    """Not lazily either: no import of the PDF module or its functions anywhere."""
    for source in (SERVICES / package).rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = {node.module or ""} | {a.name for a in node.names}
            elif isinstance(node, ast.Import):
                names = {a.name for a in node.names}
            else:
                continue
            forbidden = {"weasyprint", "pulse_report.pdf", "render_pdf", "render_pdf_documents"}
            forbidden |= {"report_pdf", "staff_report_pdf"}
            assert not names & forbidden, (source.name, names & forbidden)


def test_the_reporter_is_where_the_renderer_loads() -> None:
    """The check above can see WeasyPrint: rendering one report loads it."""
    assert "weasyprint" in loaded(RENDER_ONCE.format(tests=str(Path(__file__).parent)))
