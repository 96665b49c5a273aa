"""ingest use cases: store batches of items as samples, keep the catalog copies current.

Batch-native: a request (or a run of AMQP messages, or a provider batch) costs one connection,
one transaction, one query to find its posts, one insert for its samples and one post.pulled
per 1000 new samples, whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import groupby
from typing import Any, Final, Literal
from uuid import UUID, uuid4

import asyncpg
from pydantic_core import to_json

from pulse_contracts import Envelope, EventData, make_event, utcnow
from pulse_contracts.catalog import (
    ApiTokenRevoked,
    ApiTokenUpserted,
    CampaignDeleted,
    CampaignUpserted,
    OrganizationUpserted,
    PostRegistered,
    PostRemoved,
)
from pulse_contracts.posts import (
    MAX_SAMPLES_PER_MESSAGE,
    FetchPosts,
    FetchTarget,
    PostFacts,
    PostPulled,
)
from pulse_contracts.values import PULLED_PLATFORMS
from pulse_runtime.db import Connection
from pulse_runtime.inbox import first_delivery
from pulse_runtime.outbox import SerializedEvent, add_serialized_to_outbox, add_to_outbox

from . import held, repository, runs
from .domain import (
    Candidate,
    Match,
    PostIndex,
    Rejection,
    lookup_keys,
    match_in,
    prepare_all,
)
from .reading import BodyError, parse_body
from .tokens import TokenCache, token_digest

PRODUCER = "ingest"
UNKNOWN_POST: Final = "unknown_post"
MAX_CAPTION = 5000
MAX_CORRELATION_ID: Final = 200  # the envelope's bound (pulse_contracts.envelope)
Source = Literal["http", "amqp", "provider", "import"]
# Where the sender is answered, and told when a body is over the limits (receive_items).
ANSWERED: Final = frozenset({"http", "import"})
# An AMQP message without a valid x-pulse-key: kept with no organization, so only an operator
# sees it (on /metrics and through /internal/operator/refused-messages).
UNAUTHORIZED: Final = "unauthorized"
MISSING_KEY: Final = "missing x-pulse-key header"
UNKNOWN_KEY: Final = "unknown or revoked x-pulse-key"


@dataclass(frozen=True)
class IngestResult:
    accepted: int = 0
    duplicates: int = 0
    rejected: list[Rejection] = field(default_factory=list)

    def as_response(self) -> dict[str, Any]:
        return {
            "accepted": self.accepted,
            "duplicates": self.duplicates,
            "rejected": [
                {"index": r.index, "code": r.code, "message": r.message}
                # Kept and applied by itself when the post is registered within 24 h (held.py).
                | ({"held": True} if r.code == UNKNOWN_POST else {})
                for r in self.rejected
            ],
        }


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


async def store_items(
    conn: Connection,
    *,
    org_id: UUID,
    items: list[Any],
    source: Source,
    now: datetime,
    correlation_id: str,
    keep_rejections: bool = True,
) -> IngestResult:
    """One batch of one organization's items in the caller's transaction (the provider path
    adds its pull runs and pull state to the same commit). A replay of kept items passes
    `keep_rejections=False`: those items are already kept, and held.py updates their reason."""
    (result,) = await store_batches(
        conn,
        org_id=org_id,
        batches=[(items, correlation_id)],
        source=source,
        now=now,
        keep_rejections=keep_rejections,
    )
    return result


async def store_batches(
    conn: Connection,
    *,
    org_id: UUID,
    batches: Sequence[tuple[list[Any], str]],
    source: Source,
    now: datetime,
    keep_rejections: bool = True,
) -> list[IngestResult]:
    """Several batches of one organization (items, correlation id) in the caller's transaction,
    with one query for their posts and one insert for their samples. Each batch keeps its own
    outcome, rejections (indexes are its own) and post.pulled; a sample sent twice counts as
    new in the first batch that carries it and as a duplicate after that, exactly as if the
    batches had come one after the other."""
    prepared = [prepare_all(items, now) for items, _ in batches]
    ids, ppids, urls = lookup_keys(c for candidates, _ in prepared for c in candidates)
    posts = (
        await repository.load_posts(conn, org_id=org_id, ids=ids, ppids=ppids, urls=urls)
        if ids or ppids or urls
        else []
    )
    index = PostIndex(posts)
    outcomes: list[tuple[list[Match], list[Rejection]]] = []
    for (items, _), (candidates, rejected) in zip(batches, prepared, strict=True):
        matches, unmatched = match_in(index, candidates, _Items(items))
        outcomes.append((matches, sorted(rejected + unmatched, key=_by_index)))
    every_match = [m for matches, _ in outcomes for m in matches]
    stored = (
        await repository.insert_samples(conn, matches=every_match, source=source)
        if every_match
        else set()
    )
    facts = await repository.update_post_facts(conn, _facts(every_match))
    if keep_rejections:
        await repository.insert_rejections(
            conn,
            org_id=org_id,
            channel=source,
            rejections=[r for _, rejections in outcomes for r in rejections],
        )
    results: list[IngestResult] = []
    pulled: list[_Pulled] = []
    for (_, correlation_id), (matches, rejections) in zip(batches, outcomes, strict=True):
        accepted = _take_new(matches, stored)
        pulled.extend(
            _Pulled(correlation_id, chunk) for chunk in _chunks(accepted, MAX_SAMPLES_PER_MESSAGE)
        )
        results.append(
            IngestResult(
                accepted=len(accepted),
                duplicates=len(matches) - len(accepted),
                rejected=rejections,
            )
        )
    if pulled:
        events = _pulled_events(org_id, pulled, facts, source)
        await add_serialized_to_outbox(conn, repository.SCHEMA, events)
    return results


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


class _Items:
    """A batch's items by index, for rejections that keep the item as sent (no copy made)."""

    __slots__ = ("_items",)

    def __init__(self, items: list[Any]) -> None:
        self._items = items

    def get(self, index: int) -> Any:
        return self._items[index] if 0 <= index < len(self._items) else None


@dataclass(frozen=True)
class _Pulled:
    correlation_id: str
    matches: list[Match]


def _key_problem(token: str | None) -> str:
    return UNKNOWN_KEY if token else MISSING_KEY


def _text(body: bytes) -> dict[str, str]:
    return {"unparsed": body.decode("utf-8", errors="replace")}


def _by_index(r: Rejection) -> int:
    return -1 if r.index is None else r.index


def _chunks(matches: list[Match], size: int) -> list[list[Match]]:
    return [matches[i : i + size] for i in range(0, len(matches), size)]


def _take_new(matches: list[Match], stored: set[tuple[int, datetime]]) -> list[Match]:
    """The matches that became new rows: the first one per stored key, which is then taken out
    of `stored` (a repeat, in this batch or a later one of the same insert, is a duplicate)."""
    accepted = []
    for m in matches:
        key = (m.post.key, m.candidate.observed_at)
        if key in stored:
            stored.discard(key)
            accepted.append(m)
    return accepted


def _facts(matches: list[Match]) -> list[tuple[UUID, datetime | None, str | None, str | None]]:
    newest: dict[UUID, Candidate] = {}
    for m in matches:
        c = m.candidate
        if c.posted_at or c.caption or c.thumb_url:
            seen = newest.get(m.post.id)
            if seen is None or c.observed_at >= seen.observed_at:
                newest[m.post.id] = c
    return [(pid, c.posted_at, c.caption, c.thumb_url) for pid, c in sorted(newest.items())]


def _pulled_events(
    org_id: UUID, pulled: list[_Pulled], facts: list[asyncpg.Record], source: Source
) -> list[SerializedEvent]:
    """One post.pulled per chunk of at most 1000 new samples. A post's newly learned facts ride
    with its first samples; facts of a post whose samples were all duplicates ride in the first
    message with room (as before, facts never travel without a sample).

    The envelope is serialized here in one pydantic-core call, not built as 1000 Sample models
    (that was the largest single cost of a batch): every sample value was validated on the way in
    (counters by the item schema, observed_at, ids and platform by ingest's own rows), facts are
    validated as PostFacts, and a test holds the body to the post.pulled contract."""
    pending = {row["id"]: row for row in facts}
    plans: list[tuple[str, list[dict[str, Any]], list[dict[str, Any]]]] = []
    for p in pulled:
        chunk_facts: list[dict[str, Any]] = []
        for m in p.matches:
            row = pending.pop(m.post.id, None)
            if row is not None:
                chunk_facts.append(_post_facts(row))
        plans.append((p.correlation_id, [_sample(m, source) for m in p.matches], chunk_facts))
    leftovers = [_post_facts(row) for row in pending.values()]
    for _, _, chunk_facts in plans:
        room = MAX_SAMPLES_PER_MESSAGE - len(chunk_facts)
        chunk_facts.extend(leftovers[:room])
        del leftovers[:room]
    occurred_at = utcnow()
    events: list[SerializedEvent] = []
    for correlation_id, samples, chunk_facts in plans:
        event_id = uuid4()
        correlation = (correlation_id or str(uuid4()))[:MAX_CORRELATION_ID]
        body = to_json(
            {
                "event_id": event_id,
                "type": PostPulled.event_type,
                "version": PostPulled.event_version,
                "occurred_at": occurred_at,
                "org_id": org_id,
                "correlation_id": correlation,
                "producer": PRODUCER,
                "data": {"samples": samples, "posts": chunk_facts},
            }
        )
        events.append(SerializedEvent(event_id, PostPulled.event_type, correlation, body))
    return events


def _post_facts(row: asyncpg.Record) -> dict[str, Any]:
    caption = row["caption"]
    facts: dict[str, Any] = PostFacts(
        post_id=row["id"],
        posted_at=row["posted_at"],
        caption=caption[:MAX_CAPTION] if caption else None,
        thumb_url=row["thumb_url"],
    ).model_dump()
    return facts


def _sample(m: Match, source: Source) -> dict[str, Any]:
    """A contract Sample (pulse_contracts.posts.Sample), field for field, in its order."""
    c = m.candidate
    views, likes, comments, shares, saves, reach = c.metrics
    post = m.post
    return {
        "views": views,
        "likes": likes,
        "comments": comments,
        "shares": shares,
        "saves": saves,
        "reach": reach,
        "post_id": post.id,
        "booking_id": post.booking_id,
        "campaign_id": post.campaign_id,
        "platform": post.platform,
        "observed_at": c.observed_at,
        "source": source,
        "estimated": c.estimated,
    }


async def on_catalog_event(
    pool: asyncpg.Pool,
    envelope: Envelope[EventData],
    *,
    start_tracking: bool = False,
    now: datetime | None = None,
    tokens: TokenCache | None = None,
) -> None:
    """Keep ingest's copies of organizations, ingest tokens, campaigns and tracked posts
    current. With `start_tracking` (pulling enabled), a newly registered post gets one
    high-priority fetch command through the outbox, in the same transaction. A changed or
    revoked token is forgotten by this replica's token cache at once."""
    data = envelope.data
    if not isinstance(
        data,
        OrganizationUpserted
        | ApiTokenUpserted
        | ApiTokenRevoked
        | CampaignUpserted
        | CampaignDeleted
        | PostRegistered
        | PostRemoved,
    ):
        return  # other catalog entities are not ingest's concern
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, repository.SCHEMA, envelope.event_id, envelope.type):
            return
        match data:
            case OrganizationUpserted():
                await repository.upsert_organization(conn, data)
            case ApiTokenUpserted():
                await repository.upsert_token(conn, data)
            case ApiTokenRevoked():
                await repository.revoke_token(conn, data)
            case CampaignUpserted():
                await repository.upsert_campaign(conn, envelope.org_id, data)
            case CampaignDeleted():
                await repository.delete_campaign(conn, envelope.org_id, data)
            case PostRegistered():
                applied = await repository.register_post(conn, envelope.org_id, data)
                if applied is not None and not applied["removed"]:
                    await held.apply_held(
                        conn,
                        org_id=envelope.org_id,
                        post=data,
                        now=now or utcnow(),
                        store=store_items,
                    )
                if (
                    start_tracking
                    and applied is not None
                    and not applied["removed"]
                    and not applied["deleted"]
                    and data.platform in PULLED_PLATFORMS
                    and not await repository.org_is_test(conn, envelope.org_id)
                ):
                    await enqueue_fetch(
                        conn,
                        org_id=envelope.org_id,
                        targets=[
                            FetchTarget(post_id=data.id, platform=data.platform, url=data.url)
                        ],
                        priority="high",
                        reason="start_tracking",
                        now=now or utcnow(),
                        correlation_id=envelope.correlation_id,
                    )
            case PostRemoved():
                await repository.remove_post(conn, envelope.org_id, data)
    if tokens is not None and isinstance(data, ApiTokenUpserted | ApiTokenRevoked):
        tokens.forget(data.id)


async def enqueue_fetch(
    conn: Connection,
    *,
    org_id: UUID,
    targets: list[FetchTarget],
    priority: Literal["high", "low"],
    reason: Literal["start_tracking", "scheduled", "manual"],
    now: datetime,
    correlation_id: str | None = None,
) -> Envelope[FetchPosts]:
    """A FetchPosts command through the outbox to ingest.fetch.<priority>; the posts are marked
    pending so the scheduler does not enqueue them again meanwhile."""
    envelope = make_event(
        FetchPosts(priority=priority, reason=reason, posts=targets),
        org_id=org_id,
        producer=PRODUCER,
        correlation_id=correlation_id,
        occurred_at=now,
    )
    await repository.mark_queued(conn, [t.post_id for t in targets], now)
    await add_to_outbox(conn, repository.SCHEMA, envelope, routing_key=f"ingest.fetch.{priority}")
    return envelope
