"""/api/signing-secrets, /api/signing: the n8n webhook's signing secrets (owners). Ingest
creates and keeps them, sealed; the gateway passes each new secret on once and never stores it."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from ..deps import ContextDep, Owner
from ..operations import ingest

router = APIRouter(tags=["signing"])


class SigningIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    required: bool


@router.get("/api/signing-secrets")
async def list_secrets(ctx: ContextDep, caller: Owner) -> dict[str, Any]:
    """Whether signing is required, and every secret (hint, created, retired), never one's
    value."""
    result: dict[str, Any] = await ingest(ctx, caller.org_id, "GET", "/signing-secrets")
    return result


@router.post("/api/signing-secrets", status_code=201)
async def create_secret(ctx: ContextDep, caller: Owner) -> dict[str, Any]:
    """A new secret, shown this once. With one active it starts a rotation (both verify until
    the older is retired); with two active it is refused (409)."""
    result: dict[str, Any] = await ingest(ctx, caller.org_id, "POST", "/signing-secrets")
    return result


@router.post("/api/signing-secrets/retire-older")
async def retire_older(ctx: ContextDep, caller: Owner) -> dict[str, Any]:
    """A rotation's last step, once n8n signs with the new secret."""
    result: dict[str, Any] = await ingest(
        ctx, caller.org_id, "POST", "/signing-secrets/retire-older"
    )
    return result


@router.delete("/api/signing-secrets/{secret_id}")
async def retire(ctx: ContextDep, caller: Owner, secret_id: UUID) -> dict[str, Any]:
    result: dict[str, Any] = await ingest(
        ctx, caller.org_id, "DELETE", f"/signing-secrets/{secret_id}"
    )
    return result


@router.put("/api/signing")
async def set_required(ctx: ContextDep, caller: Owner, body: SigningIn) -> dict[str, Any]:
    """Require signatures (refused until a secret exists), or accept unsigned requests."""
    result: dict[str, Any] = await ingest(
        ctx, caller.org_id, "PUT", "/signing", json=body.model_dump()
    )
    return result
