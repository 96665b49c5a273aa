"""Items as they arrive (HTTP, n8n's AMQP messages, the gateway's imports): the key, the body."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any, Final
from uuid import UUID

import asyncpg

from pulse_runtime.db import Connection

from .. import repository, runs
from ..domain import (
    Rejection,
)
from ..reading import BodyError, parse_body
from ..tokens import TokenCache, token_digest
from .samples import IngestResult, Source, store_batches

# Where the sender is answered, and told when a body is over the limits (receive_items).
ANSWERED: Final = frozenset({"http", "import"})
# An AMQP message without a valid x-pulse-key: kept with no organization, so only an operator
# sees it (on /metrics and through /internal/operator/refused-messages).
UNAUTHORIZED: Final = "unauthorized"
MISSING_KEY: Final = "missing x-pulse-key header"
UNKNOWN_KEY: Final = "unknown or revoked x-pulse-key"


@dataclass(frozen=True)
class Message:
    """One message n8n published to pulse.ingest: its body, its x-pulse-key, its correlation."""

    body: bytes
    token: str | None
    correlation_id: str
    run_id: UUID | None = None  # the n8n run it belongs to (header x-pulse-run)


def run_of(header: Any) -> UUID | None:
    """The run named by an x-pulse-run header; a value that is no run id names no run (the
    message's items are stored all the same)."""
    try:
        return UUID(header) if isinstance(header, str) else None
    except ValueError:
        return None


async def authenticate(pool: asyncpg.Pool, token: str | None, tokens: TokenCache) -> UUID | None:
    """The organization of an ingest token: from the cache (tokens.py has the bound), else one
    short query on a connection of its own."""
    if not token:
        return None
    digest = token_digest(token)
    org_id = tokens.org_for(digest)
    if org_id is not None:
        return org_id
    async with pool.acquire() as conn:
        return await _look_up(conn, digest, tokens)


async def _look_up(conn: Connection, digest: bytes, tokens: TokenCache) -> UUID | None:
    row = await repository.find_token(conn, token_sha256=digest)
    if row is None:
        return None
    token_id, org_id = row
    tokens.remember(digest, token_id=token_id, org_id=org_id)
    return org_id


@dataclass(frozen=True)
class Delivery:
    """One body of items as it reached ingest: an HTTP request, an AMQP message, an import."""

    org_id: UUID | None  # None: an AMQP message without a valid key (HTTP answers 401 first)
    body: bytes
    correlation_id: str
    run_id: UUID | None = None  # the n8n run it belongs to
    token: str | None = None  # what an unauthenticated message carried, for its rejection


@dataclass(frozen=True)
class Received:
    """A delivery's outcome; `unreadable` when its body could not be read at all, which HTTP
    and imports answer with the error's status."""

    result: IngestResult
    unreadable: BodyError | None = None


async def receive_items(
    conn: Connection, deliveries: Sequence[Delivery], *, source: Source, now: datetime
) -> list[Received]:
    """The one pipeline behind every way items arrive (HTTP, n8n's AMQP messages, the gateway's
    imports), in the caller's transaction: read each body, keep what cannot be used with its
    reason, store the rest by organization with one query and one insert, and count each
    result against its n8n run. Each delivery keeps the outcome it would have had alone.

    Kept: a message without a valid key (under no organization: an operator's matter) and every
    unreadable body, except a body over the size limits where the sender is answered (HTTP,
    imports): it gets the 413 and still holds every item, while a stored copy of an oversized
    body would only undo the limit."""
    received: list[Received | None] = [None] * len(deliveries)
    readable: list[tuple[UUID, int, list[Any], str]] = []
    for position, delivery in enumerate(deliveries):
        if delivery.org_id is None:
            rejection = Rejection(
                None, UNAUTHORIZED, _key_problem(delivery.token), _text(delivery.body)
            )
            received[position] = Received(IngestResult(rejected=[rejection]))
            await repository.insert_rejections(
                conn, org_id=None, channel=source, rejections=[rejection]
            )
            continue
        try:
            items = parse_body(delivery.body)
        except BodyError as exc:
            rejection = Rejection(None, "invalid_body", str(exc), _text(delivery.body))
            received[position] = Received(IngestResult(rejected=[rejection]), unreadable=exc)
            if exc.status != 413 or source not in ANSWERED:
                await repository.insert_rejections(
                    conn, org_id=delivery.org_id, channel=source, rejections=[rejection]
                )
            continue
        readable.append((delivery.org_id, position, items, delivery.correlation_id))
    readable.sort(key=lambda r: (str(r[0]), r[1]))  # grouped by organization, in order
    for org_id, group in groupby(readable, key=lambda r: r[0]):
        members = list(group)
        stored = await store_batches(
            conn,
            org_id=org_id,
            batches=[(items, cid) for _, _, items, cid in members],
            source=source,
            now=now,
        )
        for (_, position, _, _), result in zip(members, stored, strict=True):
            received[position] = Received(result)
            run_id = deliveries[position].run_id
            await runs.count_result(conn, run_id=run_id, org_id=org_id, result=result, at=now)
    return [r if r is not None else Received(IngestResult()) for r in received]


async def ingest_messages(
    pool: asyncpg.Pool, *, messages: Sequence[Message], tokens: TokenCache, now: datetime
) -> list[IngestResult]:
    """n8n messages from pulse.ingest, several in one transaction (receive_items); a bad key or
    an unusable body is recorded as rejected, and the message acked."""
    async with pool.acquire() as conn:
        deliveries: list[Delivery] = []
        for message in messages:
            org_id = None
            if message.token:
                digest = token_digest(message.token)
                org_id = tokens.org_for(digest) or await _look_up(conn, digest, tokens)
            deliveries.append(
                Delivery(
                    org_id=org_id,
                    body=message.body,
                    correlation_id=message.correlation_id,
                    run_id=message.run_id,
                    token=message.token,
                )
            )
        async with conn.transaction():
            received = await receive_items(conn, deliveries, source="amqp", now=now)
    return [r.result for r in received]


def _key_problem(token: str | None) -> str:
    return UNKNOWN_KEY if token else MISSING_KEY


def _text(body: bytes) -> dict[str, str]:
    return {"unparsed": body.decode("utf-8", errors="replace")}
