"""/api/stream: Server-Sent Events of the caller's organization (kpi.updated, alert.*)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from ..deps import ContextDep, Reader

router = APIRouter(tags=["stream"])


@router.get("/api/stream")
async def stream(ctx: ContextDep, caller: Reader) -> StreamingResponse:
    return StreamingResponse(
        ctx.hub.frames(caller.org_id),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
