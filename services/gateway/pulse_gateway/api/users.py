"""/api/users: the people of an organization (owners only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from pulse_runtime.errors import ApiError

from ..db import listed
from ..deps import ContextDep, Owner, PoolDep
from ..handlers import accounts
from ..handlers.accounts import RoleName, UserIn, UserPatch
from ..repository import users as repo

router = APIRouter(prefix="/api/users", tags=["users"])


class UserOut(BaseModel):
    id: UUID
    email: str
    name: str
    role: RoleName
    disabled: bool
    created_at: datetime
    updated_at: datetime


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None


@router.get("", response_model=UserPage)
async def list_users(
    pool: PoolDep,
    caller: Owner,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: str | None = None,
) -> dict[str, Any]:
    return await listed(pool, caller.org_id, repo.list_users, cursor=cursor, limit=limit)


@router.post("", response_model=UserOut, status_code=201)
async def create_user(pool: PoolDep, caller: Owner, body: UserIn) -> dict[str, Any]:
    return await accounts.create_user(pool, caller, caller.org_id, body.model_dump())


@router.patch("/{user_id}", response_model=UserOut)
async def update_user(
    ctx: ContextDep, caller: Owner, user_id: UUID, body: UserPatch
) -> dict[str, Any]:
    return await accounts.update_user(
        ctx.pool, ctx.sessions, caller, user_id, body.model_dump(exclude_unset=True)
    )


@router.delete("/{user_id}", status_code=204)
async def delete_user(ctx: ContextDep, caller: Owner, user_id: UUID) -> Response:
    """People are disabled, not erased: the audit log keeps naming them."""
    if user_id == caller.user_id:
        raise ApiError(409, "you cannot remove yourself; ask another owner")
    await accounts.update_user(ctx.pool, ctx.sessions, caller, user_id, {"disabled": True})
    return Response(status_code=204)
