"""/api/signing-secrets, /api/signing: the n8n webhook's signing secrets (owners). Ingest
creates and keeps them, sealed; the gateway passes each new secret on once and never stores it."""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter

from pulse_contracts.internal.ingest import (
    CreatedSecret,
    RetiredSecret,
    SigningRequired,
    SigningSecrets,
    SigningState,
)

from .. import peers
from ..deps import ContextDep, Owner

router = APIRouter(tags=["signing"])


@router.get("/api/signing-secrets")
async def list_secrets(ctx: ContextDep, caller: Owner) -> SigningSecrets:
    """Whether signing is required, and every secret (hint, created, retired), never one's
    value."""
    return await peers.signing_secrets(ctx, caller.org_id)


@router.post("/api/signing-secrets", status_code=201)
async def create_secret(ctx: ContextDep, caller: Owner) -> CreatedSecret:
    """A new secret, shown this once. With one active it starts a rotation (both verify until
    the older is retired); with two active it is refused (409)."""
    return await peers.create_signing_secret(ctx, caller.org_id)


@router.post("/api/signing-secrets/retire-older")
async def retire_older(ctx: ContextDep, caller: Owner) -> RetiredSecret:
    """A rotation's last step, once n8n signs with the new secret."""
    return await peers.retire_signing_secret(ctx, caller.org_id, None)


@router.delete("/api/signing-secrets/{secret_id}")
async def retire(ctx: ContextDep, caller: Owner, secret_id: UUID) -> RetiredSecret:
    return await peers.retire_signing_secret(ctx, caller.org_id, secret_id)


@router.put("/api/signing")
async def set_required(ctx: ContextDep, caller: Owner, body: SigningRequired) -> SigningState:
    """Require signatures (refused until a secret exists), or accept unsigned requests."""
    return await peers.require_signing(ctx, caller.org_id, body.required)
