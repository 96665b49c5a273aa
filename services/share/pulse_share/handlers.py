"""share use cases: keep the redacted copies and numbers, rebuild projections, manage links."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from pulse_contracts import Envelope, EventData
from pulse_contracts.catalog import (
    BookingDeleted,
    BookingUpserted,
    CampaignDeleted,
    CampaignUpserted,
    ClientUpserted,
    InfluencerUpserted,
    OrganizationUpserted,
)
from pulse_contracts.emv import EMV_RATES_KEY
from pulse_contracts.forecast import DeliveryForecast
from pulse_contracts.numbers import CampaignNumbers
from pulse_runtime import passwords
from pulse_runtime.db import Connection, PoolGetter, without_nul
from pulse_runtime.errors import ApiError
from pulse_runtime.inbox import first_delivery
from pulse_runtime.logging import get_logger

from . import repository
from .batches import Batched, BatchFailed
from .domain import (
    ShareClient,
    ShareNumbers,
    SharePayload,
    booking_ref,
    build_payload,
    campaign_ref,
    client_ref,
    distinct,
    influencer_ref,
    redact_numbers,
)
from .emv import ShareEmv, share_emv
from .forward import JsonAtMoment, at_moment, forward_to_day
from .links import (
    expiry_problem,
    link_state,
    new_token,
    token_digest,
    truncated_address,
    unlock_expiry,
    unlocked,
)
from .messages import NumbersRead
from .repository import SCHEMA, Access, LinkRecord, StoredProjection
from .view_log import ViewLog

log = get_logger(__name__)
MAX_USER_AGENT = 300


# --- consumers' use cases ---------------------------------------------------------------------


async def on_catalog_event(
    pool: asyncpg.Pool, envelope: Envelope[EventData], now: datetime
) -> bool:
    """Keep the reduced copy (newer wins) and rebuild every projection it shows in."""
    data = envelope.data
    org = envelope.org_id
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, SCHEMA, envelope.event_id, envelope.type):
            return False
        affected: list[UUID] = []
        match data:
            case ClientUpserted():
                affected = await repository.upsert_client(
                    conn, org, client_ref(data), data.updated_at
                )
            case CampaignUpserted():
                if await repository.upsert_campaign(conn, org, campaign_ref(data), data.updated_at):
                    affected = [data.id]
            case CampaignDeleted():
                await repository.lock_campaign(conn, data.id)
                await repository.delete_campaign(conn, org, data.id, data.deleted_at)
            case InfluencerUpserted():
                affected = await repository.upsert_influencer(
                    conn, org, influencer_ref(data), data.updated_at
                )
            case BookingUpserted():
                affected = await repository.upsert_booking(
                    conn, org, booking_ref(data), data.updated_at
                )
            case BookingDeleted():
                affected = await repository.delete_booking(
                    conn, org, data.id, data.campaign_id, data.deleted_at
                )
            case OrganizationUpserted():
                # Only the EMV rates: a link values its campaign at view time, so no
                # projection is rebuilt.
                rates = data.settings.get(EMV_RATES_KEY) or {}
                await repository.upsert_emv_rates(conn, org, rates, data.updated_at)
            case _:
                return False  # tokens, posts: nothing a client sees
        await rebuild(conn, org, affected, now)
    return True


async def on_kpi_updated(pool: asyncpg.Pool, envelope: Envelope[EventData], now: datetime) -> bool:
    """Keep the allow-listed numbers of the newer document and rebuild the projection."""
    doc = envelope.data
    assert isinstance(doc, CampaignNumbers | NumbersRead)
    campaign_id = doc.campaign.campaign_id
    async with pool.acquire() as conn, conn.transaction():
        if not await first_delivery(conn, SCHEMA, envelope.event_id, envelope.type):
            return False
        await repository.lock_campaign(conn, campaign_id)
        if await repository.is_campaign_deleted(conn, campaign_id):
            return False
        numbers = redact_numbers(doc)
        if not await repository.save_numbers(conn, envelope.org_id, campaign_id, numbers):
            return False  # an older document than the one held
        await _rebuild_one(conn, envelope.org_id, campaign_id, now, numbers=numbers)
    return True


async def rebuild(conn: Connection, org_id: UUID, campaigns: Iterable[UUID], now: datetime) -> None:
    for campaign_id in distinct(campaigns):  # one lock order: concurrent rebuilds never deadlock
        await repository.lock_campaign(conn, campaign_id)
        await _rebuild_one(conn, org_id, campaign_id, now)


async def _rebuild_one(
    conn: Connection,
    org_id: UUID,
    campaign_id: UUID,
    now: datetime,
    *,
    numbers: ShareNumbers | None = None,
) -> None:
    inputs = await repository.load_inputs(conn, org_id, campaign_id, numbers=numbers)
    payload = build_payload(inputs.numbers, inputs.refs, now)
    if payload is None:
        await repository.forget_projection(conn, org_id, campaign_id)
        return
    as_of = inputs.numbers.as_of if inputs.numbers else None
    forecast = inputs.numbers.forecast if inputs.numbers else None
    await repository.save_projection(conn, org_id, campaign_id, payload, as_of, forecast)


# --- links for the gateway --------------------------------------------------------------------


def link_out(row: dict[str, Any], now: datetime) -> dict[str, Any]:
    return {
        "id": row["id"],
        "campaign_id": row["campaign_id"],
        "created_by": row["created_by"],
        "created_at": row["created_at"],
        "expires_at": row["expires_at"],
        "has_password": row["has_password"],
        "revoked_at": row["revoked_at"],
        "view_count": row["view_count"],
        "last_viewed_at": row["last_viewed_at"],
        "show_forecast": row["show_forecast"],
        "show_emv": row["show_emv"],
        "state": link_state(expires_at=row["expires_at"], revoked_at=row["revoked_at"], now=now),
    }


async def create_link(
    pool: asyncpg.Pool,
    *,
    org_id: UUID,
    campaign_id: UUID,
    created_by: UUID | None,
    expires_at: datetime | None,
    password: str | None,
    now: datetime,
    show_forecast: bool = False,
    show_emv: bool = False,
) -> tuple[dict[str, Any], str]:
    """The link's row and its token: the one time the token exists outside the caller's hands."""
    if problem := expiry_problem(expires_at, now):
        raise ApiError(422, problem, details=[{"path": "expires_at", "message": problem}])
    token, digest = new_token()
    password_hash = await passwords.run(passwords.hash_password, password) if password else None
    async with pool.acquire() as conn, conn.transaction():
        if await repository.is_campaign_deleted(conn, campaign_id):
            raise ApiError(404, f"no campaign {campaign_id}")
        row = await repository.insert_link(
            conn,
            link_id=uuid4(),
            org_id=org_id,
            campaign_id=campaign_id,
            token_sha256=digest,
            created_by=created_by,
            expires_at=expires_at,
            show_forecast=show_forecast,
            show_emv=show_emv,
            password_hash=password_hash,
        )
    log.info("share link created", link_id=str(row["id"]), campaign_id=str(campaign_id))
    return link_out(row, now), token


async def list_links(
    pool: asyncpg.Pool, *, org_id: UUID, campaign_id: UUID, limit: int, now: datetime
) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await repository.list_links(
            conn, org_id=org_id, campaign_id=campaign_id, limit=limit
        )
    return [link_out(r, now) for r in rows]


async def revoke_link(
    pool: asyncpg.Pool, *, org_id: UUID, link_id: UUID, now: datetime
) -> dict[str, Any]:
    async with pool.acquire() as conn, conn.transaction():
        row = await repository.revoke_link(conn, org_id=org_id, link_id=link_id, now=now)
    if row is None:
        raise ApiError(404, f"no share link {link_id}")
    log.info("share link revoked", link_id=str(link_id))
    return link_out(row, now)


# --- the public surface -----------------------------------------------------------------------


@dataclass(frozen=True)
class Visitor:
    host: str | None
    user_agent: str
    unlock_cookie: str | None

    @property
    def address(self) -> str:
        return truncated_address(self.host)


@dataclass(frozen=True)
class Seen:
    """A held projection at the moment of a view: the payload (`as_of_now`) is built only when
    asked for, and the JSON route's body comes from the held cut JSON (forward.JsonAtMoment)."""

    forwarded: SharePayload  # brought forward to the view's day
    now: datetime
    cut: JsonAtMoment | None = None

    @cached_property
    def payload(self) -> SharePayload:
        return at_moment(self.forwarded, self.now)

    def json(self) -> str:
        """Exactly `self.payload.model_dump_json()`."""
        if self.cut is None:
            return self.payload.model_dump_json()
        return self.cut.at(self.now)


@dataclass(frozen=True)
class Opened:
    """What a request for a token found: nothing (the one 404), a locked link, or the payload."""

    link: LinkRecord | None
    locked: bool = False
    seen: Seen | None = None
    # The campaign's delivery forecast: set only for a link that opted in (never money).
    forecast: DeliveryForecast | None = None
    # Earned media value: set only for a link that opted in (an estimate; no fee, spend, ROI).
    emv: ShareEmv | None = None

    @property
    def payload(self) -> SharePayload | None:
        return self.seen.payload if self.seen else None


class Projections:
    """Each replica's parsed projections, by campaign, with the daily tail already brought
    forward to the day it was last viewed on.

    Every view's link lookup also reads the version (generated_at) of the campaign's current
    projection; a held one is used only when it is that version, so a new projection shows on
    the very next view and replicas need no invalidation. Reading and parsing the projection
    was most of a view's cost (bench P5 profile)."""

    def __init__(self, capacity: int = 1024) -> None:
        self.capacity = capacity
        # campaign → (version, as stored, day brought forward to, brought forward, its JSON cut)
        self._held: OrderedDict[
            UUID, tuple[datetime, StoredProjection, date, SharePayload, JsonAtMoment | None]
        ] = OrderedDict()

    async def seen_at(
        self, pool: asyncpg.Pool, link: LinkRecord, now: datetime
    ) -> SharePayload | None:
        """The link's campaign projection as of `now` (as_of_now), or None before the first."""
        seen = await self.view_at(pool, link, now)
        return seen.payload if seen else None

    async def view_at(self, pool: asyncpg.Pool, link: LinkRecord, now: datetime) -> Seen | None:
        """The projection at the moment of a view, or None before the first."""
        stored = await self.stored(pool, link)
        if stored is None:
            return None
        day = now.astimezone(UTC).date()
        version, _, held_day, forwarded, cut = self._held[link.campaign_id]
        if held_day != day:
            forwarded = forward_to_day(stored.payload, stored.numbers_as_of, now)
            cut = JsonAtMoment.of(forwarded)
            self._held[link.campaign_id] = (version, stored, day, forwarded, cut)
        return Seen(forwarded=forwarded, now=now, cut=cut)

    async def stored(self, pool: asyncpg.Pool, link: LinkRecord) -> StoredProjection | None:
        """The projection as stored, read only when this replica does not hold its version."""
        version = link.projection_version
        if version is None:
            return None
        held = self._held.get(link.campaign_id)
        if held is not None and held[0] == version:
            self._held.move_to_end(link.campaign_id)
            return held[1]
        async with pool.acquire() as conn:
            stored = await repository.get_projection(
                conn, org_id=link.org_id, campaign_id=link.campaign_id
            )
        if stored is None:
            return None
        # A projection saved since the lookup is newer still: hold it under its own version.
        self._held[link.campaign_id] = (
            stored.payload.generated_at,
            stored,
            date.min,
            stored.payload,
            None,
        )
        while len(self._held) > self.capacity:
            self._held.popitem(last=False)
        return stored


class LinkLookups:
    """Each replica's link lookups, batched (batches.py): the tokens of the requests arriving
    while one lookup runs are looked up together in the next, one statement for all of them.
    No request is answered from a lookup that started before it arrived, so a link revoked (or
    its password changed) before a request arrives is seen by that request: revocation still
    takes effect on the very next view."""

    def __init__(self, pool: PoolGetter, *, max_batch: int = 200) -> None:
        self._pool = pool
        self._batched: Batched[bytes, LinkRecord | None] = Batched(
            self._find, max_batch=max_batch, failure=LinksNotRead
        )

    async def find(self, token_sha256: bytes) -> LinkRecord | None:
        return await self._batched(token_sha256)

    async def _find(self, digests: Sequence[bytes]) -> list[LinkRecord | None]:
        async with self._pool().acquire() as conn:
            found = await repository.find_links(conn, sorted(set(digests)))
        return [found.get(d) for d in digests]


class LinksNotRead(BatchFailed):
    """The link could not be looked up (its batch's statement failed)"""


@dataclass(frozen=True)
class PublicViews:
    """What one replica keeps for the public surface: its parsed projections, and its batched
    link lookups and view writes."""

    projections: Projections
    links: LinkLookups
    views: ViewLog

    @classmethod
    def of(cls, pool: PoolGetter) -> PublicViews:
        return cls(projections=Projections(), links=LinkLookups(pool), views=ViewLog(pool))


async def find_active_link(
    pool: asyncpg.Pool, token: str, now: datetime, links: LinkLookups | None = None
) -> LinkRecord | None:
    """The link, when the token names one that may be shown now; else None. Unknown, expired,
    revoked and deleted-campaign tokens take the same path: one indexed lookup by SHA-256
    (batched with the lookups beside it when `links` is given)."""
    digest = token_digest(token)
    if links is not None:
        link = await links.find(digest)
    else:
        async with pool.acquire() as conn:
            link = await repository.find_link(conn, digest)
    if link is None or link.campaign_deleted:
        return None
    if link_state(expires_at=link.expires_at, revoked_at=link.revoked_at, now=now) != "active":
        return None
    return link


async def open_link(
    pool: asyncpg.Pool,
    public: PublicViews,
    token: str,
    visitor: Visitor,
    *,
    surface: str,
    key: bytes,
    now: datetime,
) -> Opened:
    """A view: counts it, logs it, and returns the payload brought forward to now.

    The count and the log row are committed before this returns (view_log.py: written together
    with the views arriving beside it), so an answered view is always stored; when they cannot
    be written this raises ViewsNotRecorded and the view is not answered."""
    projections, views = public.projections, public.views
    link = await find_active_link(pool, token, now, public.links)
    if link is None:
        return Opened(link=None)
    if link.password_hash is not None and not unlocked(
        key, visitor.unlock_cookie, link.id, link.password_hash, now
    ):
        await views.record(_access(link, visitor, surface, "locked", now))
        return Opened(link=link, locked=True)
    seen = await projections.view_at(pool, link, now)
    if seen is None:
        return Opened(link=link)
    stored = await projections.stored(pool, link) if link.show_forecast else None
    await views.record(_access(link, visitor, surface, "viewed", now))
    return Opened(
        link=link,
        seen=seen,
        forecast=stored.forecast if stored else None,
        emv=share_emv(seen.payload, link.emv_rates) if link.show_emv else None,
    )


async def link_client(pool: asyncpg.Pool, link: LinkRecord) -> ShareClient | None:
    """Whose report a locked link opens, for its password page: the client's name and brand
    colour only (no numbers, no campaign, no images until the password is given)."""
    async with pool.acquire() as conn:
        stored = await repository.get_projection(
            conn, org_id=link.org_id, campaign_id=link.campaign_id
        )
    return stored.payload.client if stored else None


async def link_media(
    pool: asyncpg.Pool,
    public: PublicViews,
    token: str,
    visitor: Visitor,
    *,
    key: bytes,
    now: datetime,
) -> Opened:
    """What a link's images may be fetched against: the same checks as a view (one lookup,
    expiry, revocation, password), but an image is part of a view, so it is neither counted
    nor logged (a page of thumbnails would otherwise count as dozens of views)."""
    link = await find_active_link(pool, token, now, public.links)
    if link is None:
        return Opened(link=None)
    if link.password_hash is not None and not unlocked(
        key, visitor.unlock_cookie, link.id, link.password_hash, now
    ):
        return Opened(link=link, locked=True)
    stored = await public.projections.stored(pool, link)
    return Opened(link=link, seen=Seen(forwarded=stored.payload, now=now) if stored else None)


async def unlock_link(
    pool: asyncpg.Pool,
    link: LinkRecord,
    password: str,
    visitor: Visitor,
    *,
    ttl: timedelta,
    now: datetime,
) -> datetime | None:
    """Until when the link is unlocked for this visitor, or None for a wrong password."""
    if link.password_hash is None:
        return unlock_expiry(now, ttl, link.expires_at)
    # Off the event loop: a check on it stalled every viewer of this process for its length.
    ok = await passwords.run(passwords.verify_password, link.password_hash, password)
    outcome = "unlocked" if ok else "wrong_password"
    async with pool.acquire() as conn:
        await repository.record_accesses(conn, [_access(link, visitor, "unlock", outcome, now)])
    return unlock_expiry(now, ttl, link.expires_at) if ok else None


def _access(
    link: LinkRecord, visitor: Visitor, surface: str, outcome: str, now: datetime
) -> Access:
    """The access-log row of an answer; only a view of the report counts as a view."""
    return Access(
        link_id=link.id,
        at=now,
        address=visitor.address,
        user_agent=without_nul(visitor.user_agent[:MAX_USER_AGENT]),
        surface=surface,
        outcome=outcome,
        counted=outcome == "viewed",
    )
