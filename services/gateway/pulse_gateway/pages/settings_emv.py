"""/settings/emv-rates: the organization's earned media value rates, one row per platform, over
the same handler as PUT /api/settings/emv-rates (managers change them, everyone reads them)."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from pulse_contracts.emv import DEFAULT_RATES, METRICS, EmvRates
from pulse_contracts.values import Platform
from pulse_runtime.errors import ApiError

from ..deps import ContextDep
from ..handlers import emv_rates as handlers
from .common import ViewerDep, is_fragment_request, page_router, render
from .forms_support import (
    decimal_number,
    error_status,
    form_fields,
    handler_errors,
    require_manager,
)

router = page_router()
PLATFORMS: tuple[tuple[Platform, str], ...] = (
    ("tiktok", "TikTok"),
    ("instagram", "Instagram"),
    ("youtube", "YouTube"),
    ("facebook", "Facebook"),
    ("other", "Other"),
)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("per_1000_views", "per 1,000 views"),
    ("per_like", "per like"),
    ("per_comment", "per comment"),
    ("per_share", "per share"),
    ("per_save", "per save"),
)
NUMBER = "Enter a number of at least 0, like 0.25."
CURRENCY = "Enter a three-letter currency code, like EUR."


def _plain(value: float) -> str:
    return str(int(value)) if value.is_integer() else repr(value)


def _values(rates: EmvRates) -> dict[str, str]:
    values: dict[str, str] = {"currency": rates.currency}
    for platform, _ in PLATFORMS:
        for metric in METRICS:
            values[f"{platform}.{metric}"] = _plain(getattr(rates.of(platform), metric))
    return values


def _render(request: Request, status: int = 200, **context: Any) -> Response:
    fragment = is_fragment_request(request) and request.method == "POST"
    template = "settings/emv_rates_form.html" if fragment else "settings/emv_rates.html"
    defaults = {
        f"{p}.{m}": _plain(getattr(DEFAULT_RATES[p], m)) for p, _ in PLATFORMS for m in METRICS
    }
    return render(
        request,
        template,
        status_code=status,
        platforms=PLATFORMS,
        columns=COLUMNS,
        defaults=defaults,
        **context,
    )


@router.get("/settings/emv-rates")
async def emv_rates_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    rates = await handlers.emv_rates(ctx.pool, viewer.principal)
    return _render(request, values=_values(rates), errors={}, done=None)


@router.post("/settings/emv-rates")
async def save_emv_rates(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    """Every rate as the form shows it; an empty field goes back to its default. A rate that
    is not a number ≥ 0 re-renders the form with the message on that field."""
    require_manager(viewer)
    values = await form_fields(request)
    errors: dict[str, str] = {}
    changes: dict[str, Any] = {"currency": values.get("currency", "").strip().upper() or None}
    for platform, _ in PLATFORMS:
        own: dict[str, float | None] = {}
        for metric in METRICS:
            name = f"{platform}.{metric}"
            own[metric] = decimal_number(values, name, errors)
            if name in errors:
                errors[name] = NUMBER
        changes[platform] = own
    if not errors:
        try:
            rates = await handlers.change_emv_rates(ctx.pool, viewer.principal, changes)
        except ApiError as exc:
            if exc.status != 422:
                raise
            errors = {k: CURRENCY if k == "currency" else NUMBER for k in handler_errors(exc)}
    if errors:
        return _render(request, error_status(request), values=values, errors=errors, done=None)
    return _render(request, values=_values(rates), errors={}, done="EMV rates saved.")
