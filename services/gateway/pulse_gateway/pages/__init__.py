"""The staff dashboard: server-rendered pages (Jinja2 + htmx) over the same handlers as /api.

One module per screen, each with its own `router = common.page_router()`; this package
gathers them (see common.py for how to add a page).
"""

from __future__ import annotations

import importlib
import pkgutil

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from .common import STATIC, page_router

router = page_router()


def _screens() -> list[APIRouter]:
    found = []
    # Form modules first: their fixed paths (/campaigns/new) must match before a screen's
    # /campaigns/{campaign_id}, which would otherwise take "new" for an id and answer 422.
    ordered = sorted(pkgutil.iter_modules(__path__), key=lambda m: (m.name[:5] != "forms", m.name))
    for info in ordered:
        if info.name == "common":
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        if isinstance(screen := getattr(module, "router", None), APIRouter):
            found.append(screen)
    return found


for _screen in _screens():
    router.include_router(_screen)


def install(app: FastAPI) -> None:
    """The pages and their static files (vendored htmx and uPlot, the CSS, app.js)."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
