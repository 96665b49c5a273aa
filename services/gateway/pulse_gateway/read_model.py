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
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import TypeAdapter

from pulse_contracts import Envelope, EventData
from pulse_contracts.numbers import CampaignFigures, CampaignNumbers, extend_to, timeline_pct
from pulse_runtime.logging import get_logger
from pulse_runtime.messaging import parse_envelope

from .db import org_read, org_transaction
from .messages import NumbersStamp
from .repository import numbers as repo

log = get_logger(__name__)

# Compare a held document's `as_of` with the table after this long, so a replica that missed a
# live event (its broker connection dropped) serves the durable copy within this bound. The
# check reads only `as_of`; the document itself is read again only when the table's is newer.
MAX_AGE_S = 10.0
# A campaign the aggregator has no numbers for yet is not asked about again for this long.
MISSING_TTL_S = 2.0
BACKFILL_CONCURRENCY = 4
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)

Backfill = Callable[[UUID, UUID], Awaitable[dict[str, Any] | None]]


@dataclass
class _Held:
    """A document brought forward to `day`, held as compact JSON per part (bookings, posts,
    daily, platforms: a third of their parsed size), so a read parses only the parts it shows.
    The campaign figures stay parsed, for lists and the moving timeline."""

    org_id: UUID
    as_of: datetime  # when the aggregator computed the document: what "newer" compares
    checked_at: float  # monotonic time it was compared with the table or offered live
    day: date  # the UTC day the parts were brought forward to
    parts: dict[str, bytes]  # the aggregator's read on `day`, but for campaign and as_of
    campaign: dict[str, Any]  # its campaign figures, parsed
    figures: CampaignFigures | None = None  # the same, validated, once a read asked for it
    # Where each booking's snapshot lies in parts["bookings"], by booking id (text): a booking
    # list sends those bytes as they are, parsing nothing (a few ints per booking, no copy).
    booking_spans: dict[str, tuple[int, int]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(len(part) for part in self.parts.values())


class NumbersReadModel:
    """One per gateway replica, bounded by documents and by bytes of JSON held."""

    def __init__(self, capacity: int = 4096, max_bytes: int = 32 * 2**20) -> None:
        self.capacity = max(1, capacity)
        self.max_bytes = max(1, max_bytes)
        self.held_bytes = 0
        self._held: OrderedDict[UUID, _Held] = OrderedDict()
        self._missing: dict[UUID, float] = {}
        self.hits = self.loads = self.backfills = 0

    # --- live events ------------------------------------------------------------------------

    def offer(self, org_id: UUID, document: CampaignNumbers) -> None:
        """A kpi.updated seen live by this replica: held at once, unless a later one is."""
        self._hold(org_id, document)

    def holds(self, campaign_id: UUID, as_of: datetime) -> bool:
        """Whether the campaign's document computed at `as_of` is the one held."""
        held = self._held.get(campaign_id)
        return held is not None and held.as_of == as_of

    # --- reads --------------------------------------------------------------------------------

    async def numbers(
        self,
        pool: asyncpg.Pool,
        org_id: UUID,
        campaign_ids: Sequence[UUID],
        *,
        now: datetime,
        backfill: Backfill | None = None,
        parts: Collection[str] | None = None,
    ) -> dict[UUID, dict[str, Any]]:
        """The campaigns' documents as of `now` (JSON), by campaign id; campaigns without
        numbers yet (or of another organization) are absent. With `parts`, only those parts
        (e.g. "daily") besides campaign and as_of: `parts=()` parses nothing, for lists."""
        found = await self._current(pool, org_id, campaign_ids, now, backfill)
        return {cid: _document(held, now, parts) for cid, held in found.items()}

    async def document(
        self,
        pool: asyncpg.Pool,
        org_id: UUID,
        campaign_id: UUID,
        *,
        now: datetime,
        backfill: Backfill | None = None,
        parts: Collection[str] | None = None,
    ) -> dict[str, Any] | None:
        found, _ = await self.versioned(
            pool, org_id, campaign_id, now=now, backfill=backfill, parts=parts
        )
        return found

    async def versioned(
        self,
        pool: asyncpg.Pool,
        org_id: UUID,
        campaign_id: UUID,
        *,
        now: datetime,
        backfill: Backfill | None = None,
        parts: Collection[str] | None = None,
    ) -> tuple[dict[str, Any] | None, int]:
        """The document and its version (`version_of` its as_of; 0 before the first one), read
        together: a live event announcing a later version can land between two awaits, so the
        version a screen shows must be the one of the numbers it shows."""
        found = await self._current(pool, org_id, [campaign_id], now, backfill)
        held = found.get(campaign_id)
        if held is None:
            return None, 0
        return _document(held, now, parts), version_of(held.as_of)

    async def figures(
        self,
        pool: asyncpg.Pool,
        org_id: UUID,
        campaign_ids: Sequence[UUID],
        *,
        now: datetime,
        backfill: Backfill | None = None,
    ) -> dict[UUID, CampaignFigures]:
        """The campaigns' figures as of `now` as models (what `CampaignFigures.model_validate`
        of `numbers(parts=())[id]["campaign"]` gives), validated once per held document."""
        found = await self._current(pool, org_id, campaign_ids, now, backfill)
        return {cid: _figures(held, now) for cid, held in found.items()}

    async def booking_json(
        self,
        pool: asyncpg.Pool,
        org_id: UUID,
        campaign_id: UUID,
        *,
        now: datetime,
        backfill: Backfill | None = None,
    ) -> dict[str, bytes] | None:
        """Each booking snapshot as of `now` as compact JSON, by booking id (text): the text
        json.dumps gives of `document(parts=("bookings",))["bookings"][i]`. None before the
        first computation."""
        found = await self._current(pool, org_id, [campaign_id], now, backfill)
        held = found.get(campaign_id)
        if held is None:
            return None
        part = held.parts["bookings"]
        return {bid: part[start:end] for bid, (start, end) in held.booking_spans.items()}

    async def part_json(
        self,
        pool: asyncpg.Pool,
        org_id: UUID,
        campaign_id: UUID,
        name: str,
        *,
        now: datetime,
        backfill: Backfill | None = None,
    ) -> bytes | None:
        """One part of the document as of `now` ("daily", ...), as the compact JSON held: the
        exact text `document(parts=(name,))[name]` would parse to and json.dumps back, handed
        out without that round trip. None before the first computation."""
        found = await self._current(pool, org_id, [campaign_id], now, backfill)
        held = found.get(campaign_id)
        return None if held is None else held.parts[name]

    async def _current(
        self,
        pool: asyncpg.Pool,
        org_id: UUID,
        campaign_ids: Sequence[UUID],
        now: datetime,
        backfill: Backfill | None,
    ) -> dict[UUID, _Held]:
        wanted = list(dict.fromkeys(campaign_ids))
        clock = time.monotonic()
        stale = [
            cid
            for cid in wanted
            if (held := self._held.get(cid)) is None or clock - held.checked_at > MAX_AGE_S
        ]
        if stale:
            await self._load(pool, org_id, stale)
            if backfill is not None:
                missing = [c for c in stale if c not in self._held]
                await self._backfill(pool, org_id, missing, backfill)
        day = now.astimezone(UTC).date()
        found: dict[UUID, _Held] = {}
        for cid in wanted:
            held = self._held.get(cid)
            if held is None or held.org_id != org_id:
                continue  # another organization's campaign is as missing as an unknown one
            if held.day != day:
                held = self._bring_forward(held, cid, now)
            self._held.move_to_end(cid)
            self.hits += 1
            found[cid] = held
        return found

    # --- the table ----------------------------------------------------------------------------

    async def _load(self, pool: asyncpg.Pool, org_id: UUID, campaign_ids: list[UUID]) -> None:
        """Documents not held, or newer in the table than held; the rest only re-checked."""
        known = [h.as_of if (h := self._held.get(c)) else None for c in campaign_ids]
        async with org_read(pool, org_id) as conn:
            rows = await repo.get_newer_documents(
                conn, org_id=org_id, campaign_ids=campaign_ids, known=known
            )
        self.loads += 1
        for row in rows:
            if row["document"] is not None:
                self._hold(org_id, CampaignNumbers.model_validate_json(row["document"]))
        checked = time.monotonic()
        for cid in campaign_ids:
            if (held := self._held.get(cid)) is not None:
                held.checked_at = checked  # compared with the table just now

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
        # Brought forward to the document's own day; a read on a later day does it again.
        self._put(campaign_id, _forward(org_id, document, document.as_of))

    def _bring_forward(self, held: _Held, campaign_id: UUID, now: datetime) -> _Held:
        document = CampaignNumbers.model_validate(_document(held, held.as_of, None))
        ahead = _forward(held.org_id, document, now)
        ahead.as_of, ahead.checked_at = held.as_of, held.checked_at
        self._put(campaign_id, ahead)
        return ahead

    def _put(self, campaign_id: UUID, held: _Held) -> None:
        self.forget(campaign_id)
        self._held[campaign_id] = held
        self.held_bytes += held.size
        self._missing.pop(campaign_id, None)
        while len(self._held) > 1 and (
            len(self._held) > self.capacity or self.held_bytes > self.max_bytes
        ):
            _, oldest = self._held.popitem(last=False)
            self.held_bytes -= oldest.size

    def forget(self, campaign_id: UUID) -> None:
        if (held := self._held.pop(campaign_id, None)) is not None:
            self.held_bytes -= held.size


def version_of(as_of: datetime) -> int:
    """A document's version as the live stream and the campaign page carry it: its as_of in
    whole microseconds since 1970 (exact in a JavaScript number until the year 2255). Newer
    is larger, the order every copy of the numbers already keeps."""
    return (as_of - _EPOCH) // _MICROSECOND


# Each part of a document (all but campaign and as_of) serialized by the contract's own
# serializer, pydantic's: a third of the CPU of model_dump(mode="json") then json.dumps, for
# the same JSON. Every kpi.updated is held this way by every replica.
_PARTS: dict[str, TypeAdapter[Any]] = {
    name: TypeAdapter(Any if field.annotation is None else field.annotation)
    for name, field in CampaignNumbers.model_fields.items()
    if name not in ("campaign", "as_of")
}


def _forward(org_id: UUID, document: CampaignNumbers, now: datetime) -> _Held:
    """The aggregator's read of the document on `now`'s UTC day (extend_to), held as JSON."""
    ahead = extend_to(document, now)
    parts: dict[str, bytes] = {}
    spans: dict[str, tuple[int, int]] = {}
    for name, adapter in _PARTS.items():
        if name != "bookings":
            parts[name] = adapter.dump_json(getattr(ahead, name))
            continue
        # A compact list is its items' JSON joined by commas: each booking's span is known.
        pieces, at = [], 1
        for booking in ahead.bookings:
            piece = booking.model_dump_json().encode()
            spans[str(booking.booking_id)] = (at, at + len(piece))
            pieces.append(piece)
            at += len(piece) + 1
        parts[name] = b"[" + b",".join(pieces) + b"]"
    return _Held(
        org_id=org_id,
        as_of=document.as_of,
        checked_at=time.monotonic(),
        day=now.astimezone(UTC).date(),
        parts=parts,
        campaign=ahead.campaign.model_dump(mode="json"),
        booking_spans=spans,
    )


def _document(held: _Held, now: datetime, parts: Collection[str] | None) -> dict[str, Any]:
    """The held document as the aggregator's read at `now` would answer it (only `parts`)."""
    names = held.parts if parts is None else [n for n in parts if n in held.parts]
    view: dict[str, Any] = {name: json.loads(held.parts[name]) for name in names}
    view["campaign"] = _campaign(held, now)
    view["as_of"] = max(now, held.as_of).isoformat().replace("+00:00", "Z")
    return view


def _campaign(held: _Held, now: datetime) -> dict[str, Any]:
    """The campaign figures with the one figure that moves within a day, the timeline, taken
    at this very moment (extend_to's rule)."""
    campaign = held.campaign
    start, end = campaign.get("start_date"), campaign.get("end_date")
    if not (start and end and now > held.as_of):
        return dict(campaign)
    pct = timeline_pct(date.fromisoformat(start), date.fromisoformat(end), now)
    return {**campaign, "timeline_pct": pct}


def _figures(held: _Held, now: datetime) -> CampaignFigures:
    if held.figures is None:
        held.figures = CampaignFigures.model_validate(held.campaign)
    # Only the timeline moves within a day (_campaign); it is a float or None either way.
    moving = _campaign(held, now).get("timeline_pct")
    if moving == held.figures.timeline_pct:
        return held.figures
    return held.figures.model_copy(update={"timeline_pct": moving})


async def store(pool: asyncpg.Pool, org_id: UUID, document: CampaignNumbers) -> bool:
    """Keep the document in the table unless a later one is there (True when stored)."""
    body = b'{"data":' + document.model_dump_json().encode() + b"}"
    return await _store_body(pool, org_id, document.campaign.campaign_id, document.as_of, body)


async def _store_body(
    pool: asyncpg.Pool, org_id: UUID, campaign_id: UUID, as_of: datetime, body: bytes
) -> bool:
    """store() for a kpi.updated envelope's body: its `data` is the document kept."""
    async with org_transaction(pool, org_id) as conn:
        return await repo.save_document(
            conn, org_id=org_id, campaign_id=campaign_id, as_of=as_of, body=body.decode()
        )


async def on_kpi_updated(
    pool: asyncpg.Pool, held: NumbersReadModel, envelope: Envelope[EventData], body: bytes
) -> None:
    """The durable consumer: every kpi.updated reaches the table once per deployment, as the
    text the aggregator sent. The replica that stores it holds it too (after a restart, the
    backlog it drains arrives here and not on its new live queue).

    Decoded only as far as its campaign and as_of (messages.py) when the live relay already
    holds this very document, which it decoded whole; otherwise decoded whole here first, so
    a document the contract refuses goes to the DLQ (ContractError), never into the table."""
    data = envelope.data
    if isinstance(data, CampaignNumbers):  # decoded whole already (a caller other than ours)
        document: CampaignNumbers | None = data
        campaign_id, as_of = data.campaign.campaign_id, data.as_of
    else:
        assert isinstance(data, NumbersStamp)
        campaign_id, as_of = data.campaign.campaign_id, data.as_of
        document = None
        if not held.holds(campaign_id, as_of):
            whole = parse_envelope(body, CampaignNumbers.event_type)
            assert isinstance(whole.data, CampaignNumbers)
            document = whole.data
    await _store_body(pool, envelope.org_id, campaign_id, as_of, body)
    if document is not None:
        held.offer(envelope.org_id, document)
