"""Create, rename and remove benchmark sets and their accounts; each account added or removed
is a catalog event, so ingest starts or stops its daily pulls."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, Literal
from uuid import UUID, uuid4

import asyncpg
from pydantic import BaseModel, ConfigDict, Field, field_validator

from pulse_contracts import utcnow
from pulse_contracts.benchmarks import BenchmarkAccountRemoved, BenchmarkAccountUpserted
from pulse_runtime.db import Connection
from pulse_runtime.errors import Conflict, Invalid, NotFound

from ..benchmarks import MAX_ACCOUNTS
from ..db import org_transaction, record
from ..deps import Principal
from ..repository import sql

Name = Annotated[str, Field(min_length=1, max_length=200)]


class AccountIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    platform: Literal["tiktok", "instagram"]
    handle: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._]+$")

    @field_validator("handle", mode="before")
    @classmethod
    def _without_at(cls, value: object) -> object:
        """People paste "@name" or a profile URL's last part; the handle is "name"."""
        return value.strip().lstrip("@") if isinstance(value, str) else value


class SetIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name
    accounts: list[AccountIn] = Field(default_factory=list, max_length=MAX_ACCOUNTS)

    @field_validator("accounts")
    @classmethod
    def _distinct(cls, accounts: list[AccountIn]) -> list[AccountIn]:
        seen: set[tuple[str, str]] = set()
        for a in accounts:
            key = (a.platform, a.handle.lower())
            if key in seen:
                raise ValueError(f"{a.platform} @{a.handle} is listed twice")
            seen.add(key)
        return accounts


class SetPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Name


async def list_sets(pool: asyncpg.Pool, caller: Principal) -> list[dict[str, Any]]:
    async with org_transaction(pool, caller.org_id) as conn:
        return [dict(r) for r in await conn.fetch(sql.benchmark_sets_list, caller.org_id)]


async def get_set(conn: Connection, org_id: UUID, set_id: UUID) -> dict[str, Any]:
    row = await conn.fetchrow(sql.benchmark_sets_get, org_id, set_id)
    if row is None:
        raise NotFound(f"no benchmark set {set_id}")
    accounts = [dict(r) for r in await conn.fetch(sql.benchmark_accounts_list, org_id, set_id)]
    return {**dict(row), "accounts": accounts}


async def _add(
    conn: Connection, caller: Principal, set_id: UUID, platform: str, handle: str
) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        sql.benchmark_accounts_insert, uuid4(), caller.org_id, set_id, platform, handle
    )
    if row is None:
        return None
    account = dict(row)
    await record(
        conn,
        org_id=caller.org_id,
        actor=caller.actor,
        action="create",
        entity="benchmark_account",
        entity_id=account["id"],
        before=None,
        after=account,
        event=BenchmarkAccountUpserted(
            id=account["id"],
            set_id=set_id,
            platform=platform,
            handle=handle,
            updated_at=account["updated_at"],
        ),
    )
    return account


async def _removed(conn: Connection, caller: Principal, account: dict[str, Any]) -> None:
    await record(
        conn,
        org_id=caller.org_id,
        actor=caller.actor,
        action="delete",
        entity="benchmark_account",
        entity_id=account["id"],
        before=account,
        after=None,
        event=BenchmarkAccountRemoved(
            id=account["id"], set_id=account["set_id"], removed_at=utcnow()
        ),
    )


async def create_set(
    pool: asyncpg.Pool, caller: Principal, name: str, accounts: Sequence[tuple[str, str]]
) -> dict[str, Any]:
    async with org_transaction(pool, caller.org_id) as conn:
        inserted = await conn.fetchrow(sql.benchmark_sets_insert, uuid4(), caller.org_id, name)
        assert inserted is not None  # INSERT … RETURNING
        row = dict(inserted)
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="create",
            entity="benchmark_set",
            entity_id=row["id"],
            before=None,
            after=row,
            event=None,
        )
        for platform, handle in accounts:
            await _add(conn, caller, row["id"], platform, handle)
        return await get_set(conn, caller.org_id, row["id"])


async def rename_set(
    pool: asyncpg.Pool, caller: Principal, set_id: UUID, name: str
) -> dict[str, Any]:
    async with org_transaction(pool, caller.org_id) as conn:
        before = await get_set(conn, caller.org_id, set_id)
        updated = await conn.fetchrow(sql.benchmark_sets_update, caller.org_id, set_id, name)
        assert updated is not None  # get_set found it in this transaction
        row = dict(updated)
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="update",
            entity="benchmark_set",
            entity_id=set_id,
            before={k: v for k, v in before.items() if k != "accounts"},
            after=row,
            event=None,
        )
        return await get_set(conn, caller.org_id, set_id)


async def delete_set(pool: asyncpg.Pool, caller: Principal, set_id: UUID) -> None:
    async with org_transaction(pool, caller.org_id) as conn:
        before = await get_set(conn, caller.org_id, set_id)
        for account in before["accounts"]:
            await _removed(conn, caller, account)
        await conn.execute(sql.benchmark_sets_delete, caller.org_id, set_id)
        await record(
            conn,
            org_id=caller.org_id,
            actor=caller.actor,
            action="delete",
            entity="benchmark_set",
            entity_id=set_id,
            before={k: v for k, v in before.items() if k != "accounts"},
            after=None,
            event=None,
        )


async def add_account(
    pool: asyncpg.Pool, caller: Principal, set_id: UUID, platform: str, handle: str
) -> dict[str, Any]:
    async with org_transaction(pool, caller.org_id) as conn:
        held = await get_set(conn, caller.org_id, set_id)
        if len(held["accounts"]) >= MAX_ACCOUNTS:
            raise Invalid(
                "handle",
                f"a benchmark set holds at most {MAX_ACCOUNTS} accounts",
                details=[{"path": "handle", "message": "the set is full"}],
            )
        account = await _add(conn, caller, set_id, platform, handle)
    if account is None:
        raise Conflict(f"the set already holds {platform} @{handle}")
    return account


async def remove_account(
    pool: asyncpg.Pool, caller: Principal, set_id: UUID, account_id: UUID
) -> None:
    async with org_transaction(pool, caller.org_id) as conn:
        row = await conn.fetchrow(sql.benchmark_accounts_delete, caller.org_id, set_id, account_id)
        if row is None:
            raise NotFound(f"no account {account_id} in benchmark set {set_id}")
        await _removed(conn, caller, dict(row))
