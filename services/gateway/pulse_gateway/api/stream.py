"""/api/stream: Server-Sent Events of the caller's organization (kpi.updated, alert.*,
report.progressed), each a small notice of what changed and its version (stream.notice)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from ..deps import RANK, ContextDep, UncountedReader, authenticate_again

router = APIRouter(tags=["stream"])


@router.get("/api/stream")
async def stream(ctx: ContextDep, caller: UncountedReader) -> StreamingResponse:
    async def still_allowed() -> bool:
        """The stream says which campaigns' numbers and alerts change, and when (no figures
        since issue 18, only notices): it lasts only while the same credential still signs in
        someone of this organization whose role reads numbers."""
        now = await authenticate_again(ctx, caller)
        return (
            now is not None
            and now.org_id == caller.org_id
            and RANK.get(now.role, 0) >= RANK["analyst"]
        )

    return StreamingResponse(
        ctx.hub.frames(
            caller.org_id, still_allowed=still_allowed, recheck_s=ctx.settings.stream_recheck_s
        ),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )
