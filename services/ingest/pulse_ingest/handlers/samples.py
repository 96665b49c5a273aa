"""Items stored as samples: one batch of one organization, its rejections and its post.pulled.

Batch-native: a request (or a run of AMQP messages, or a provider batch) costs one connection,
one transaction, one query to find its posts, one insert for its samples and one post.pulled
per 1000 new samples, whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal
from uuid import UUID, uuid4

import asyncpg
from pydantic_core import to_json

from pulse_contracts import utcnow
from pulse_contracts.posts import (
    MAX_SAMPLES_PER_MESSAGE,
    PostFacts,
    PostPulled,
)
from pulse_runtime.db import Connection
from pulse_runtime.outbox import SerializedEvent, add_serialized_to_outbox

from .. import repository
from ..domain import (
    Candidate,
    Match,
    PostIndex,
    Rejection,
    lookup_keys,
    match_in,
    prepare_all,
)

PRODUCER = "ingest"
UNKNOWN_POST: Final = "unknown_post"
MAX_CAPTION = 5000
MAX_CORRELATION_ID: Final = 200  # the envelope's bound (pulse_contracts.envelope)
Source = Literal["http", "amqp", "provider", "import"]


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
    # The ids are asyncpg's own UUID subclass, which pydantic-core serializes by its slow
    # fallback: as text they serialize the same, and a batch's body costs a quarter as much.
    return {
        "views": views,
        "likes": likes,
        "comments": comments,
        "shares": shares,
        "saves": saves,
        "reach": reach,
        "post_id": str(post.id),
        "booking_id": str(post.booking_id),
        "campaign_id": str(post.campaign_id),
        "platform": post.platform,
        "observed_at": c.observed_at,
        "source": source,
        "estimated": c.estimated,
    }
