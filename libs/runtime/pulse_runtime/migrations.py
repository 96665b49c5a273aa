"""Per-service schema migrations, applied under the service's own database role.

An administrator connection creates the role and a schema it owns; every migration then runs
as that role, so a service can only ever write its own schema.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from .logging import get_logger

log = get_logger(__name__)
_RUNTIME_SQL = Path(__file__).parent / "sql" / "runtime_tables.sql"
# Added to every schema after its first release, so under a version of its own.
_TRACING_SQL = Path(__file__).parent / "sql" / "runtime_tracing.sql"
_COMPRESSION_SQL = Path(__file__).parent / "sql" / "runtime_compression.sql"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


@dataclass(frozen=True)
class Migration:
    version: str
    sql: str


def load_migrations(directory: Path, schema: str) -> list[Migration]:
    """`0001_name.sql` files in order, preceded by the runtime's outbox and inbox tables."""
    found = [
        Migration("0000_runtime", _RUNTIME_SQL.read_text().replace("{schema}", schema)),
        Migration("0000_runtime_tracing", _TRACING_SQL.read_text().replace("{schema}", schema)),
        Migration(
            "0000_runtime_compression", _COMPRESSION_SQL.read_text().replace("{schema}", schema)
        ),
    ]
    for path in sorted(directory.glob("*.sql")):
        found.append(Migration(path.stem, path.read_text(encoding="utf-8")))
    return found


async def ensure_role_and_schema(
    admin_dsn: str, *, role: str, schema: str, password: str | None = None
) -> None:
    if not (_NAME.match(role) and _NAME.match(schema)):
        raise ValueError(f"refusing unsafe role or schema name: {role!r}, {schema!r}")
    conn = await asyncpg.connect(admin_dsn)
    try:
        # Roles are cluster-wide and test runs may race to create them: tolerate the loser.
        await conn.execute(
            f"""
            DO $$ BEGIN
              IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN
                CREATE ROLE {role} LOGIN;
              END IF;
            EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
            END $$;
            """
        )
        if password:
            await conn.execute(f"ALTER ROLE {role} PASSWORD {_literal(password)}")
        database = await conn.fetchval("SELECT current_database()")
        await conn.execute(f'GRANT CONNECT, TEMPORARY ON DATABASE "{database}" TO {role}')
        await conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {schema} AUTHORIZATION {role}")
    finally:
        await conn.close()


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


async def apply_migrations(dsn: str, *, schema: str, directory: Path) -> list[str]:
    """Apply pending migrations in order, each in its own transaction; returns those applied."""
    conn = await asyncpg.connect(dsn)
    applied: list[str] = []
    try:
        await conn.execute(
            f"""CREATE TABLE IF NOT EXISTS {schema}.schema_migrations (
                    version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"""
        )
        for migration in load_migrations(directory, schema):
            async with conn.transaction():
                # Replicas starting together must not apply the same file twice.
                await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"mig:{schema}")
                done = await conn.fetchval(
                    f"SELECT 1 FROM {schema}.schema_migrations WHERE version = $1",
                    migration.version,
                )
                if done:
                    continue
                await conn.execute(migration.sql)
                await conn.execute(
                    f"INSERT INTO {schema}.schema_migrations (version) VALUES ($1)",
                    migration.version,
                )
                applied.append(migration.version)
    finally:
        await conn.close()
    if applied:
        log.info("migrations applied", schema=schema, versions=applied)
    return applied


async def migrate_service(
    *, admin_dsn: str, dsn: str, role: str, schema: str, directory: Path, password: str | None
) -> list[str]:
    await ensure_role_and_schema(admin_dsn, role=role, schema=schema, password=password)
    return await apply_migrations(dsn, schema=schema, directory=directory)
