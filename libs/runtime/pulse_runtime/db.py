"""asyncpg pool with JSON codecs, and loading SQL kept in .sql files beside repositories."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import asyncpg

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

    # What repositories take: a plain connection or one borrowed from the pool.
    Connection: TypeAlias = asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]
else:
    Connection = asyncpg.Connection


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def create_pool(dsn: str, *, min_size: int = 1, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn, min_size=min_size, max_size=max_size, init=_init_connection, command_timeout=60
    )
    assert pool is not None
    return pool


@cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


class SqlFiles:
    """`sql.name` is the text of `sql/name.sql` beside the repository module (read once)."""

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def __getattr__(self, name: str) -> str:
        path = self._directory / f"{name}.sql"
        if not path.exists():
            raise AttributeError(f"no SQL file {path}")
        text = _read(path)
        # Kept on the instance, so the next `sql.name` is a plain attribute: no path built and
        # no file system check per query on a hot path.
        self.__dict__[name] = text
        return text


def without_nul(value: Any) -> Any:
    """PostgreSQL text and jsonb cannot hold NUL: keep what was sent, with U+FFFD in its place."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, list):
        return [without_nul(v) for v in value]
    if isinstance(value, dict):
        return {without_nul(k): without_nul(v) for k, v in value.items()}
    return value


async def ping(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.fetchval("SELECT 1")
