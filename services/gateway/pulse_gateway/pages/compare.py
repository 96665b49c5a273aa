"""/compare?ids=a,b[,c]: two or three campaigns side by side, winners as the aggregator judges."""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import Query, Request, Response

from pulse_contracts import utcnow
from pulse_runtime.errors import ApiError

from .. import numbers
from ..db import org_transaction
from ..deps import ContextDep
from ..handlers.campaigns import require_campaigns
from ..pacing import pacing
from ..repository import campaigns as campaigns_repo
from .common import ViewerDep, page_router, render

router = page_router()

# (key, label, kind): kind says how to format and whether it is money.
METRICS = [
    ("actual_views", "Views", "num"),
    ("actual_engagement", "Engagement", "num"),
    ("engagement_rate", "Engagement rate", "pct"),
    ("kpi_pct", "KPI delivered", "pct"),
    ("actual_posts", "Posts live", "num"),
    ("spend_cents", "Spend", "money"),
    ("cpm", "CPM", "rate"),
    ("cpe", "CPE", "rate"),
]


def _ids(raw: list[str]) -> list[UUID] | None:
    """Accepts ids=a,b (the API's form) and ids=a&ids=b (the list's checkboxes)."""
    parts = [p.strip() for chunk in raw for p in chunk.split(",") if p.strip()]
    try:
        return list(dict.fromkeys(UUID(p) for p in parts))
    except ValueError:
        return None


@router.get("/compare")
async def compare_page(
    request: Request,
    ctx: ContextDep,
    viewer: ViewerDep,
    ids: Annotated[list[str] | None, Query(max_length=200)] = None,
) -> Response:
    org_id = viewer.principal.org_id
    wanted = _ids(ids or [])
    async with org_transaction(ctx.pool, org_id) as conn:
        choices = await campaigns_repo.list_campaigns(
            conn, org_id=org_id, status=None, client_id=None, q=None, after=None, limit=200
        )
    base: dict[str, Any] = {"choices": choices, "metrics": METRICS, "selected": []}
    if not ids:
        return render(request, "compare.html", result=None, problem=None, **base)
    if wanted is None or not 2 <= len(wanted) <= 3:
        problem = "Pick two or three different campaigns to compare."
        return render(
            request, "compare.html", status_code=422, result=None, problem=problem, **base
        )
    await require_campaigns(ctx.pool, org_id, wanted)  # another agency's id: 404
    try:
        result = await numbers.compare(ctx, org_id, wanted)
    except ApiError as exc:
        if exc.status != 404:
            raise
        problem = "One of these campaigns has no numbers yet: compare it once its posts are pulled."
        return render(
            request,
            "compare.html",
            result=None,
            problem=problem,
            **{**base, "selected": [str(w) for w in wanted]},
        )
    names = {str(c["id"]): c for c in choices}
    for entry in result["campaigns"]:
        row = names.get(str(entry["campaign_id"]), {})
        entry["client_name"] = row.get("client_name")
        entry["status"] = row.get("status")
    winners = {key: {str(w) for w in ids_} for key, ids_ in result["winners"].items()}
    documents = await numbers.campaign_documents(ctx, org_id, wanted)
    pace = pacing([documents[w] for w in wanted], utcnow().date())
    chart = {
        "days": pace.days,
        "unit": pace.unit,
        "names": [p.name for p in pace.paces],
        "series": pace.series,
    }
    return render(
        request,
        "compare.html",
        result=result,
        winners=winners,
        pace=pace,
        pace_chart=chart,
        # The delivery forecast of each campaign (docs/insights.md), beside its actuals.
        forecasts={str(w): (documents[w]["campaign"].get("forecast") or None) for w in wanted},
        problem=None,
        **{**base, "selected": [str(w) for w in wanted]},
    )
