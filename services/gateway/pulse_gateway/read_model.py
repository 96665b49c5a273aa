"""The gateway's read model of the numbers: every staff read is a local lookup, never a call.

Each campaign's latest `kpi.updated` document is kept in three places, fastest first:
- in process, per replica: a bounded LRU of documents already brought forward to today,
  updated by the replica's own live-event queue (every replica sees every kpi.updated);
- in `catalog.campaign_numbers`, written by the durable `gateway.numbers` consumer, so a
  restarted or newly started replica has every document without asking anybody;
- at the aggregator, asked only when a document is missing from both (a replay, a database
  restored without its read model), and then stored.

Newer wins everywhere (the document's `as_of`, when the aggregator computed it), so a
replayed, duplicated or late event never replaces a later document.

What a read returns is the aggregator's own read (`extend_to` at the request's time), as JSON:
the daily tail and the previous close change only with the UTC day, so they are brought
forward once per day per document; the timeline is recomputed on every read.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from pulse_contracts import Envelope, EventData
from pulse_contracts.numbers import CampaignNumbers, extend_to, timeline_pct
from pulse_runtime.logging import get_logger

from .db import org_transaction
from .repository import numbers as repo

log = get_logger(__name__)

# Re-read a held document from the table after this long, so a replica that missed a live
# event (its broker connection dropped) serves the durable copy within this bound.
MAX_AGE_S = 10.0
# A campaign the aggregator has no numbers for yet is not asked about again for this long.
MISSING_TTL_S = 2.0
BACKFILL_CONCURRENCY = 4

Backfill = Callable[[UUID, UUID], Awaitable[dict[str, Any] | None]]


@dataclass
class _Held:
    org_id: UUID
    as_of: datetime  # when the aggregator computed the document: what "newer" compares
    loaded_at: float  # monotonic time it was read from the table or offered live
    document: CampaignNumbers | None  # as computed; dropped once brought forward
    day: date | None = None  # the UTC day `current` was brought forward to
    current: dict[str, Any] | None = None  # JSON, brought forward to `day`


class NumbersReadModel:
    """One per gateway replica. `capacity` bounds how many documents it holds in memory."""

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = max(1, capacity)
        self._held: OrderedDict[UUID, _Held] = OrderedDict()
        self._missing: dict[UUID, float] = {}
        self.hits = self.loads = self.backfills = 0

    # --- live events ------------------------------------------------------------------------

    def offer(self, org_id: UUID, document: CampaignNumbers) -> None:
        """A kpi.updated seen live by this replica: held at once, unless a later one is."""
        self._hold(org_id, document)

    # --- reads --------------------------------------------------------------------------------

    async def numbers(
        self,
        pool: asyncpg.Pool,
        org_id: UUID,
        campaign_ids: Sequence[UUID],
        *,
        now: datetime,
        backfill: Backfill | None = None,
    ) -> dict[UUID, dict[str, Any]]:
        """The campaigns' documents as of `now` (JSON), by campaign id; campaigns without
        numbers yet (or of another organization) are absent."""
        wanted = list(dict.fromkeys(campaign_ids))
        clock = time.monotonic()
        stale = [
            cid
            for cid in wanted
            if (held := self._held.get(cid)) is None or clock - held.loaded_at > MAX_AGE_S
        ]
        if stale:
            await self._load(pool, org_id, stale)
            if backfill is not None:
                missing = [c for c in stale if c not in self._held]
                await self._backfill(pool, org_id, missing, backfill)
        found: dict[UUID, dict[str, Any]] = {}
        for cid in wanted:
            held = self._held.get(cid)
            if held is None or held.org_id != org_id:
                continue  # another organization's campaign is as missing as an unknown one
            self._held.move_to_end(cid)
            self.hits += 1
            found[cid] = _as_of(held, now)
        return found

    async def document(
        self,
        pool: asyncpg.Pool,
        org_id: UUID,
        campaign_id: UUID,
        *,
        now: datetime,
        backfill: Backfill | None = None,
    ) -> dict[str, Any] | None:
        found = await self.numbers(pool, org_id, [campaign_id], now=now, backfill=backfill)
        return found.get(campaign_id)

    # --- the table ----------------------------------------------------------------------------

    async def _load(self, pool: asyncpg.Pool, org_id: UUID, campaign_ids: list[UUID]) -> None:
        async with org_transaction(pool, org_id) as conn:
            rows = await repo.get_documents(conn, org_id=org_id, campaign_ids=campaign_ids)
        self.loads += 1
        for row in rows:
            self._hold(org_id, CampaignNumbers.model_validate_json(row["document"]))
        for cid in campaign_ids:
            if (held := self._held.get(cid)) is not None:
                held.loaded_at = time.monotonic()  # checked against the table just now

    async def _backfill(
        self, pool: asyncpg.Pool, org_id: UUID, campaign_ids: list[UUID], backfill: Backfill
    ) -> None:
        clock = time.monotonic()
        asked = [c for c in campaign_ids if self._missing.get(c, 0.0) <= clock]
        if not asked:
            return
        limit = asyncio.Semaphore(BACKFILL_CONCURRENCY)

        async def one(campaign_id: UUID) -> None:
            async with limit:
                body = await backfill(org_id, campaign_id)
            if body is None:
                self._missing[campaign_id] = time.monotonic() + MISSING_TTL_S
                return
            document = CampaignNumbers.model_validate(body)
            await store(pool, org_id, document)
            self._hold(org_id, document)
            self.backfills += 1

        await asyncio.gather(*(one(c) for c in asked))
        if len(self._missing) > 4 * self.capacity:
            self._missing = {c: t for c, t in self._missing.items() if t > clock}

    # --- memory -------------------------------------------------------------------------------

    def _hold(self, org_id: UUID, document: CampaignNumbers) -> None:
        campaign_id = document.campaign.campaign_id
        held = self._held.get(campaign_id)
        if held is not None and held.as_of >= document.as_of:
            return
        self._held[campaign_id] = _Held(org_id, document.as_of, time.monotonic(), document)
        self._held.move_to_end(campaign_id)
        self._missing.pop(campaign_id, None)
        while len(self._held) > self.capacity:
            self._held.popitem(last=False)

    def forget(self, campaign_id: UUID) -> None:
        self._held.pop(campaign_id, None)


def _as_of(held: _Held, now: datetime) -> dict[str, Any]:
    """The held document as the aggregator's read at `now` would answer it."""
    day = now.astimezone(UTC).date()
    if held.current is None or held.day != day:
        base = held.document or CampaignNumbers.model_validate(held.current)
        held.current = extend_to(base, now).model_dump(mode="json")
        held.day, held.document = day, None
    view = dict(held.current)
    campaign = view["campaign"]
    start, end = campaign.get("start_date"), campaign.get("end_date")
    if start and end and now > held.as_of:
        # The one figure that moves within a day (extend_to's rule, at this very moment).
        pct = timeline_pct(date.fromisoformat(start), date.fromisoformat(end), now)
        view["campaign"] = {**campaign, "timeline_pct": pct}
    view["as_of"] = max(now, held.as_of).isoformat().replace("+00:00", "Z")
    return view


async def store(pool: asyncpg.Pool, org_id: UUID, document: CampaignNumbers) -> bool:
    """Keep the document in the table unless a later one is there (True when stored)."""
    async with org_transaction(pool, org_id) as conn:
        return await repo.save_document(
            conn,
            org_id=org_id,
            campaign_id=document.campaign.campaign_id,
            as_of=document.as_of,
            document=document.model_dump_json(),
        )


async def on_kpi_updated(
    pool: asyncpg.Pool, held: NumbersReadModel, envelope: Envelope[EventData]
) -> None:
    """The durable consumer: every kpi.updated reaches the table once per deployment. The
    replica that stores it holds it too (after a restart, the backlog it drains arrives here
    and not on its new live queue)."""
    if isinstance(envelope.data, CampaignNumbers):
        await store(pool, envelope.org_id, envelope.data)
        held.offer(envelope.org_id, envelope.data)
