"""/settings/api-limit: the organization's API rate limit (owners change it, everyone reads it),
over the same handler as PUT /api/settings/api-limit."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response

from ..deps import ContextDep
from ..handlers import organizations as organizations_handlers
from .common import ViewerDep, is_fragment_request, page_router, render
from .forms_support import error_status, form_fields, require_owner, whole_number

router = page_router()
MAX_PER_MINUTE = 10_000  # as the API's model (api/settings.py) and the column's CHECK


def _render(request: Request, status: int = 200, **context: Any) -> Response:
    fragment = is_fragment_request(request) and request.method == "POST"
    template = "settings/api_limit_form.html" if fragment else "settings/api_limit.html"
    return render(request, template, status_code=status, **context)


@router.get("/settings/api-limit")
async def api_limit_page(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    limit = await organizations_handlers.api_limit(
        ctx.pool, viewer.principal, ctx.settings.api_requests_per_minute
    )
    values = {"requests_per_minute": str(limit["organization_value"] or "")}
    return _render(request, limit=limit, values=values, errors={}, done=None)


@router.post("/settings/api-limit")
async def save_api_limit(request: Request, ctx: ContextDep, viewer: ViewerDep) -> Response:
    """An empty field puts the organization back on the default."""
    require_owner(viewer)
    values = await form_fields(request)
    default = ctx.settings.api_requests_per_minute
    errors: dict[str, str] = {}
    wanted = whole_number(values, "requests_per_minute", errors)
    if "requests_per_minute" in errors or (wanted is not None and wanted < 1):
        errors["requests_per_minute"] = "Enter a whole number of requests of at least 1."
    elif wanted is not None and wanted > MAX_PER_MINUTE:
        errors["requests_per_minute"] = f"At most {MAX_PER_MINUTE:,} requests per minute."
    if errors:
        limit = await organizations_handlers.api_limit(ctx.pool, viewer.principal, default)
        return _render(
            request, error_status(request), limit=limit, values=values, errors=errors, done=None
        )
    limit = await organizations_handlers.change_api_limit(
        ctx.pool, viewer.principal, wanted, default
    )
    if ctx.limits is not None:
        ctx.limits.organizations.forget(viewer.principal.org_id)
    values = {"requests_per_minute": str(limit["organization_value"] or "")}
    return _render(request, limit=limit, values=values, errors={}, done="API limit saved.")
