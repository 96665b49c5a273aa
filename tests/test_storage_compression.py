"""The large values PostgreSQL compresses on every write, each outbox's event bodies and each
service's copy of the numbers document, are compressed with lz4: a quarter to two thirds of
pglz's CPU for them (bench/RESULTS.md, session 17). Checked on the run's database after every
service's migrations, as a deployment migrates it."""

from __future__ import annotations

import json

import asyncpg
import pytest

from tests.support.servers import Servers
from tests.support.services import SERVICES, settings_for

pytestmark = pytest.mark.integration

# Each service's stored copy of the kpi.updated document (design/README.md: "catalog" is the
# gateway's schema).
NUMBERS_DOCUMENTS = {
    ("aggregator", "campaign_numbers", "document"),
    ("alerter", "campaign_numbers", "document"),
    ("catalog", "campaign_numbers", "document"),
    ("share", "campaign_numbers", "numbers"),
}


async def test_every_outbox_and_every_stored_numbers_document_is_compressed_with_lz4(
    servers: Servers,
) -> None:
    schemas = {settings_for(service, servers).db_schema for service in SERVICES}
    wanted = {(schema, "outbox", "body") for schema in schemas} | NUMBERS_DOCUMENTS
    conn = await asyncpg.connect(servers.database_url)
    try:
        rows = await conn.fetch(
            """SELECT n.nspname AS schema, c.relname AS table, a.attname AS column,
                      a.attcompression::text AS method
               FROM pg_attribute a
               JOIN pg_class c ON c.oid = a.attrelid
               JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE (n.nspname, c.relname, a.attname) IN (
                   SELECT * FROM unnest($1::text[], $2::text[], $3::text[]))""",
            *(list(part) for part in zip(*sorted(wanted), strict=True)),
        )
        found = {(r["schema"], r["table"], r["column"]): r["method"] for r in rows}
        assert found.keys() == wanted, "a column this test names no longer exists"
        assert {key: method for key, method in found.items() if method != "l"} == {}

        # What a write stores now: an event body of the size of a post.pulled of 500 samples,
        # in a transaction rolled back, so the outbox stays as it was.
        body = json.dumps({"samples": [{"views": i, "likes": i // 7} for i in range(8000)]})
        written = conn.transaction()
        await written.start()
        try:
            row = await conn.fetchval(
                """INSERT INTO ingest.outbox (event_id, exchange, routing_key, correlation_id, body)
                   VALUES (gen_random_uuid(), 'pulse.events', 'post.pulled', 'test', $1)
                   RETURNING id""",
                body.encode(),
            )
            stored = await conn.fetchval(
                "SELECT pg_column_compression(body) FROM ingest.outbox WHERE id = $1", row
            )
        finally:
            await written.rollback()
        assert stored == "lz4"
    finally:
        await conn.close()
