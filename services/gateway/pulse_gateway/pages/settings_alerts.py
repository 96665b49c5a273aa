"""/settings/alerts: the organization's alert thresholds (design/kpis.md's rules), read with
their defaults and changed in part, over the same handler as /api/settings/alert-thresholds."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from pulse_contracts.alerts import AlertThresholds
from pulse_runtime.errors import ApiError

from ..deps import ContextDep
from ..handlers import organizations as organizations_handlers
from .common import ViewerDep, page_router, render
from .forms_support import (
    decimal_number,
    error_status,
    form_fields,
    handler_errors,
    require_manager,
    whole_number,
)
from .settings import settings_page

router = page_router()


THRESHOLDS = [
    (
        "deadline_warning_days",
        "Deadline warning",
        "days",
        "Warn when a booking has posts left this close to the end.",
    ),
    ("deadline_critical_days", "Deadline critical", "days", "Critical from this close to the end."),
    (
        "engagement_drop_factor",
        "Engagement drop factor",
        "×",
        "Alert when today's engagement rate falls below this share of yesterday's.",
    ),
    (
        "engagement_drop_min_views",
        "Engagement drop: minimum views",
        "views",
        "Ignore drops on posts with fewer views.",
    ),
    (
        "stale_interval_multiple",
        "Stale data: missed pulls",
        "× interval",
        "Data is stale after this many pull intervals without a sample.",
    ),
    (
        "stale_consecutive_failures",
        "Stale data: failed pulls",
        "pulls",
        "Or after this many failed pulls in a row.",
    ),
    (
        "stale_critical_hours",
        "Stale data critical",
        "hours",
        "Critical when nothing arrived for this long.",
    ),
    ("viral_min_views", "Viral: minimum views", "views", ""),
    ("viral_median_factor", "Viral: × campaign median", "×", ""),
    ("viral_median_min_posts", "Viral: posts needed for a median", "posts", ""),
    ("viral_followers_factor", "Viral: × followers", "×", ""),
    ("sentiment_min_comments", "Sentiment: minimum comments", "comments", ""),
    ("sentiment_warning_share", "Sentiment warning", "% negative", ""),
    ("sentiment_critical_share", "Sentiment critical", "% negative", ""),
    (
        "forecast_miss_min_remaining_pct",
        "Forecast miss: timeline left",
        "% of timeline",
        "Warn that a forecast misses its commitment only while this much of the timeline remains.",
    ),
    (
        "forecast_miss_margin_pct",
        "Forecast miss: share of commitment",
        "% committed",
        "Warn when the forecast's high end is below this share of the commitment.",
    ),
]
MILESTONES = ("milestone_1", "milestone_2", "milestone_3")


def _threshold_values(current: AlertThresholds) -> dict[str, str]:
    data = current.model_dump()
    values = {k: _plain(v) for k, v in data.items() if k != "under_kpi_milestones"}
    for name, value in zip(MILESTONES, data["under_kpi_milestones"], strict=True):
        values[name] = _plain(value)
    return values


def _plain(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@router.get("/settings/alerts")
async def thresholds_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    current = await organizations_handlers.alert_thresholds(ctx.pool, viewer.principal)
    return render(
        request,
        "settings/alerts.html",
        fields=THRESHOLDS,
        errors={},
        values=_threshold_values(current),
        defaults=_threshold_values(AlertThresholds()),
        done=None,
    )


@router.post("/settings/alerts")
async def save_thresholds(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    """Only the values that differ from what is in force are sent, so untouched defaults stay
    defaults (the handler validates the merged whole, as PUT /api/settings/alert-thresholds)."""
    require_manager(viewer)
    values = await form_fields(request)
    current = await organizations_handlers.alert_thresholds(ctx.pool, viewer.principal)
    errors: dict[str, str] = {}
    integers = {k for k, info in AlertThresholds.model_fields.items() if info.annotation is int}
    changes: dict[str, Any] = {}
    for name, *_ in THRESHOLDS:
        parsed = (whole_number if name in integers else decimal_number)(values, name, errors)
        if parsed is None and name not in errors:
            errors[name] = "This is required."
        elif parsed is not None and parsed != getattr(current, name):
            changes[name] = parsed
    milestones = [decimal_number(values, m, errors) for m in MILESTONES]
    if all(m is not None for m in milestones):
        if tuple(milestones) != tuple(current.under_kpi_milestones):
            changes["under_kpi_milestones"] = milestones
    else:
        errors.setdefault("milestone_1", "Enter three percentages, like 50, 80 and 95.")
    context: dict[str, Any] = {
        "fields": THRESHOLDS,
        "values": values,
        "defaults": _threshold_values(AlertThresholds()),
        "done": None,
    }
    if not errors and changes:
        try:
            current = await organizations_handlers.change_alert_thresholds(
                ctx.pool, viewer.principal, changes
            )
        except ApiError as exc:
            if exc.status != 422:
                raise
            errors = handler_errors(exc)
            if "under_kpi_milestones" in errors:
                errors["milestone_1"] = errors.pop("under_kpi_milestones")
    if errors:
        return settings_page(
            request,
            "settings/alerts.html",
            "settings/alerts_form.html",
            error_status(request),
            errors=errors,
            **context,
        )
    context.update(values=_threshold_values(current), done="Thresholds saved.")
    return settings_page(
        request, "settings/alerts.html", "settings/alerts_form.html", errors={}, **context
    )
