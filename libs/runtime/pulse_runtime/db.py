"""asyncpg pool with JSON codecs, and loading SQL kept in .sql files beside repositories."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
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

# What routers and loops take instead of a pool: the pool exists only once the app's lifespan
# has started, after the routes were built (ServiceRuntime.get_pool is one).
PoolGetter: TypeAlias = Callable[[], asyncpg.Pool]


async def _init_connection(conn: asyncpg.Connection) -> None:
    for kind in ("json", "jsonb"):
        await conn.set_type_codec(kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _keep_session(conn: asyncpg.Connection) -> None:
    """Nothing to undo beyond asyncpg's own clean-up, which always ends an open transaction:
    see create_pool."""


async def create_pool(
    dsn: str, *, min_size: int = 1, max_size: int = 10, session_locks: bool = True
) -> asyncpg.Pool:
    """`session_locks=False` for a service that keeps no session state: settings
    transaction-local (`set_config(…, true)`), advisory locks transaction-scoped, no LISTEN.
    Its connections then skip asyncpg's reset query on release (advisory unlock, CLOSE ALL,
    UNLISTEN, RESET ALL), one round trip on every release: a tenth of a small read's cost
    (bench P3 profile). A service holding session-level advisory locks keeps the reset, so a
    lock left by an interrupted unlock goes with the connection's next release."""
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=None if session_locks else _keep_session,
        command_timeout=60,
    )
    assert pool is not None
    return pool


@cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


_FRAGMENT = re.compile(r"\{\{\s*(\w+)\s*\}\}")


class SqlFiles:
    """`sql.name` is the text of `sql/name.sql` beside the repository module (read once).

    `{{ other }}` in a file stands for the text of `sql/other.sql`, so a row's column list is
    written once and every statement returning that row (get, list, insert, update) says it by
    name.
    """

    def __init__(self, directory: Path) -> None:
        self._directory = directory

    def __getattr__(self, name: str) -> str:
        path = self._directory / f"{name}.sql"
        if not path.exists():
            raise AttributeError(f"no SQL file {path}")
        text = _FRAGMENT.sub(lambda m: getattr(self, m.group(1)).strip(), _read(path))
        # Kept on the instance: later reads are plain attribute lookups, with no path built and
        # no stat of the file on every query.
        setattr(self, name, text)
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
