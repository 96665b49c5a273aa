"""alerter's tables through asyncpg; SQL lives in sql/ beside this module."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from pulse_runtime.db import Connection, SqlFiles

from .context import CommentScores, Influencer, PostState
from .domain import AlertState, Condition
from .messages import Numbers, NumbersRead

SCHEMA = "alerter"
sql = SqlFiles(Path(__file__).parent / "sql")


@dataclass(frozen=True)
class DirtyCampaign:
    campaign_id: UUID
    seq: int
    correlation_id: str


async def lock_campaign(conn: Connection, campaign_id: UUID) -> None:
    """Evaluations of one campaign (events, sweep, replicas) run one at a time."""
    await conn.execute(sql.campaign_lock, str(campaign_id))


async def try_lock_campaign(conn: Connection, campaign_id: UUID) -> bool:
    """lock_campaign without waiting: False while another evaluation holds the campaign."""
    locked: bool = await conn.fetchval(sql.campaign_try_lock, str(campaign_id))
    return locked


async def mark_dirty(conn: Connection, campaign_ids: Sequence[UUID], correlation_id: str) -> None:
    if campaign_ids:
        await conn.execute(sql.mark_dirty, sorted(set(campaign_ids)), correlation_id)


async def next_dirty(conn: Connection, *, skip: Sequence[UUID], limit: int) -> list[DirtyCampaign]:
    rows = await conn.fetch(sql.next_dirty, list(skip), limit)
    return [DirtyCampaign(**dict(r)) for r in rows]


async def dirty_mark(conn: Connection, campaign_id: UUID) -> DirtyCampaign | None:
    row = await conn.fetchrow(sql.dirty_mark, campaign_id)
    return DirtyCampaign(**dict(row)) if row is not None else None


async def clear_dirty(conn: Connection, mark: DirtyCampaign) -> None:
    await conn.execute(sql.clear_dirty, mark.campaign_id, mark.seq)


class HeldNumbers:
    """The newest documents this process stored or loaded, decoded, for the campaigns it saw
    last (at most `capacity`).

    A kpi.updated is decoded when it arrives and stored, and its campaign is evaluated a moment
    later (consumer.COALESCE_SECONDS). Loading and decoding the stored copy again there was
    nearly a fifth of the alerter's CPU per document (bench.consumer_cost). The row stays
    the truth: a held document stands in for it only while the row's as_of is the held one's,
    and as_of only moves forward (save_numbers.sql). So another replica's newer document, a row
    deleted, or a transaction that stored nothing is read from the row.

    A 200-post campaign's document takes about 0.6 MB decoded, so the default 16 cost at most
    ~10 MB of the alerter's memory (P6, design/performance.md). Campaigns noted past that
    between two passes are only read from their row, as without this."""

    def __init__(self, capacity: int = 16) -> None:
        self.capacity = capacity
        self._docs: OrderedDict[UUID, Numbers] = OrderedDict()

    def __len__(self) -> int:
        return len(self._docs)

    def get(self, campaign_id: UUID) -> Numbers | None:
        return self._docs.get(campaign_id)

    def hold(self, doc: Numbers) -> None:
        campaign_id = doc.campaign.campaign_id
        self._docs[campaign_id] = doc
        self._docs.move_to_end(campaign_id)
        while len(self._docs) > self.capacity:
            self._docs.popitem(last=False)


async def save_numbers(
    conn: Connection, org_id: UUID, doc: Numbers, held: HeldNumbers | None = None
) -> bool:
    """Keep `doc` unless a newer one is kept; True when it was (then `held` holds it too)."""
    # Serialized by pydantic in one pass and cast by PostgreSQL: the documents are large and
    # frequent, and a dict round trip through the json module costs several times as much.
    # What kpi.updated brings is a NumbersRead (messages.py): the part of the document the rules
    # read, a third smaller to write and to load again.
    status = await conn.execute(
        sql.save_numbers,
        doc.campaign.campaign_id,
        org_id,
        doc.campaign.status,
        doc.model_dump_json(),
        doc.as_of,
    )
    stored = bool(status.endswith(" 1"))  # "INSERT 0 1", or "INSERT 0 0" when older
    if stored and held is not None:
        held.hold(doc)
    return stored


async def load_numbers(
    conn: Connection, campaign_id: UUID, held: HeldNumbers | None = None
) -> tuple[UUID, Numbers] | None:
    """The campaign's organization and kept document, from `held` while it is the kept one.

    Decoded as the alerter's NumbersRead: a row holds one (or, written before the narrow
    decode, a whole document, whose other fields are ignored), and the contract's model
    would also regroup its creators, which no rule reads."""
    kept = held.get(campaign_id) if held is not None else None
    row = await conn.fetchrow(sql.load_numbers, campaign_id, kept.as_of if kept else None)
    if row is None:
        return None
    if row["document"] is None:  # the row's as_of is the held document's
        assert kept is not None
        return row["org_id"], kept
    doc = NumbersRead.model_validate_json(row["document"])
    if held is not None:
        held.hold(doc)
    return row["org_id"], doc


async def delete_numbers(conn: Connection, campaign_id: UUID) -> None:
    await conn.execute(sql.delete_numbers, campaign_id)


async def sweep_campaigns(conn: Connection, now: datetime) -> list[UUID]:
    return [r["campaign_id"] for r in await conn.fetch(sql.sweep_campaigns, now)]


async def newest_by_key(conn: Connection, keys: Sequence[str]) -> dict[str, AlertState]:
    rows = await conn.fetch(sql.newest_by_key, list(keys))
    return {
        r["debounce_key"]: AlertState(
            id=r["id"], status=r["status"], severity=r["severity"], resolved_at=r["resolved_at"]
        )
        for r in rows
    }


async def open_for_campaign(
    conn: Connection, campaign_id: UUID, types: Sequence[str]
) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.open_for_campaign, campaign_id, list(types)))


async def insert_alert(
    conn: Connection, *, alert_id: UUID, org_id: UUID, condition: Condition, now: datetime
) -> None:
    await conn.execute(
        sql.insert_alert,
        alert_id,
        org_id,
        condition.campaign_id,
        condition.booking_id,
        condition.post_id,
        condition.type,
        condition.scope,
        condition.severity,
        condition.message,
        condition.debounce_key,
        now,
    )


async def escalate_alert(
    conn: Connection, alert_id: UUID, *, severity: str, message: str, now: datetime
) -> None:
    await conn.execute(sql.escalate_alert, alert_id, severity, message, now)


async def touch_alerts(
    conn: Connection, touches: Sequence[tuple[UUID, str]], *, now: datetime
) -> None:
    """last_seen_at (and the current message) of open alerts whose condition repeats."""
    if touches:
        ordered = sorted(touches)
        await conn.execute(sql.touch_alerts, [t[0] for t in ordered], now, [t[1] for t in ordered])


async def resolve_alert(
    conn: Connection,
    alert_id: UUID,
    *,
    now: datetime,
    by: str,
    user_id: UUID | None = None,
    note: str | None = None,
) -> asyncpg.Record | None:
    """Returns the resolved alert, or None when it was not open (already resolved)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        sql.resolve_alert, alert_id, now, by, user_id, note
    )
    return row


async def add_history(
    conn: Connection,
    alert_id: UUID,
    *,
    at: datetime,
    action: str,
    severity: str,
    actor: str,
    note: str | None = None,
) -> None:
    await conn.execute(sql.add_history, alert_id, at, action, severity, actor, note)


async def list_alerts(
    conn: Connection,
    *,
    org_id: UUID,
    status: str | None,
    type: str | None,
    severity: str | None,
    campaign_id: UUID | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        sql.list_alerts,
        org_id,
        status,
        type,
        severity,
        campaign_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
    )
    return [dict(r) for r in rows]


async def get_alert(conn: Connection, *, org_id: UUID, alert_id: UUID) -> dict[str, Any] | None:
    row = await conn.fetchrow(sql.get_alert, org_id, alert_id)
    if row is None:
        return None
    history = await conn.fetch(sql.alert_history, alert_id)
    return {**dict(row), "history": [dict(h) for h in history]}


# --- reference copies (catalog.* and post.*) ------------------------------------------------


async def upsert_organization(
    conn: Connection, org_id: UUID, *, is_test: bool, settings: dict[str, Any], updated_at: datetime
) -> None:
    await conn.execute(sql.upsert_organization, org_id, is_test, settings, updated_at)


async def load_organization(conn: Connection, org_id: UUID) -> tuple[bool, dict[str, Any]] | None:
    row = await conn.fetchrow(sql.load_organization, org_id)
    return None if row is None else (row["is_test"], row["settings"])


async def upsert_campaign(
    conn: Connection,
    *,
    campaign_id: UUID,
    org_id: UUID,
    name: str,
    status: str,
    start_date: date,
    end_date: date,
    updated_at: datetime,
) -> None:
    await conn.execute(
        sql.upsert_campaign, campaign_id, org_id, name, status, start_date, end_date, updated_at
    )


async def delete_campaign(
    conn: Connection, campaign_id: UUID, *, org_id: UUID, deleted_at: datetime
) -> None:
    await conn.execute(sql.delete_campaign, campaign_id, org_id, deleted_at)
    await conn.execute(sql.delete_campaign_posts, campaign_id)


async def load_campaign(conn: Connection, campaign_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(sql.load_campaign, campaign_id)
    return row


async def upsert_influencer(
    conn: Connection,
    influencer_id: UUID,
    *,
    org_id: UUID,
    display_name: str,
    handles: list[dict[str, Any]],
    updated_at: datetime,
) -> None:
    await conn.execute(
        sql.upsert_influencer, influencer_id, org_id, display_name, handles, updated_at
    )


async def load_influencers(conn: Connection, ids: Sequence[UUID]) -> dict[UUID, Influencer]:
    found: dict[UUID, Influencer] = {}
    for row in await conn.fetch(sql.load_influencers, list(ids)):
        followers: dict[str, int] = {}
        for handle in row["handles"]:
            count = handle.get("followers")
            # Several handles on one platform: the largest audience is the creator's reach.
            if count is not None:
                followers[handle["platform"]] = max(count, followers.get(handle["platform"], 0))
        found[row["id"]] = Influencer(
            display_name=row["display_name"],
            followers=followers,  # type: ignore[arg-type]
        )
    return found


async def register_post(
    conn: Connection,
    post_id: UUID,
    *,
    org_id: UUID,
    campaign_id: UUID,
    booking_id: UUID,
    platform: str,
    registered_at: datetime,
) -> None:
    await conn.execute(
        sql.register_post, post_id, org_id, campaign_id, booking_id, platform, registered_at
    )


async def remove_post(
    conn: Connection,
    post_id: UUID,
    *,
    org_id: UUID,
    campaign_id: UUID,
    booking_id: UUID,
    removed_at: datetime,
) -> None:
    await conn.execute(sql.remove_post, post_id, org_id, campaign_id, booking_id, removed_at)


async def delete_booking(
    conn: Connection, booking_id: UUID, *, campaign_id: UUID, deleted_at: datetime
) -> None:
    await conn.execute(sql.delete_booking, booking_id, campaign_id, deleted_at)


async def upsert_booking(
    conn: Connection,
    booking_id: UUID,
    *,
    campaign_id: UUID,
    influencer_id: UUID,
    updated_at: datetime,
) -> None:
    await conn.execute(sql.upsert_booking, booking_id, campaign_id, influencer_id, updated_at)


async def booking_influencers(conn: Connection, campaign_id: UUID) -> dict[UUID, UUID]:
    return {
        r["id"]: r["influencer_id"] for r in await conn.fetch(sql.booking_influencers, campaign_id)
    }


async def deleted_bookings(conn: Connection, campaign_id: UUID) -> set[UUID]:
    return {r["id"] for r in await conn.fetch(sql.deleted_bookings, campaign_id)}


async def post_failures(
    conn: Connection,
    post_id: UUID,
    *,
    org_id: UUID,
    campaign_id: UUID,
    booking_id: UUID,
    failures: int,
    at: datetime,
) -> None:
    await conn.execute(sql.post_failures, post_id, org_id, campaign_id, booking_id, failures, at)


async def post_comments(
    conn: Connection,
    post_id: UUID,
    *,
    org_id: UUID,
    campaign_id: UUID,
    booking_id: UUID,
    platform: str,
    analysed: int,
    negative: int,
    scored_at: datetime,
) -> None:
    await conn.execute(
        sql.post_comments,
        post_id,
        org_id,
        campaign_id,
        booking_id,
        platform,
        analysed,
        negative,
        scored_at,
    )


async def load_posts(conn: Connection, campaign_id: UUID) -> dict[UUID, PostState]:
    return {
        r["id"]: PostState(
            post_id=r["id"],
            booking_id=r["booking_id"],
            campaign_id=r["campaign_id"],
            platform=r["platform"],
            registered_at=r["registered_at"],
            posted_at=r["posted_at"],
            removed=r["removed_at"] is not None,
            last_data_at=r["last_data_at"],
            failures=r["failures"],
            failures_at=r["failures_at"],
            comments=(
                CommentScores(analysed=r["comments_analysed"], negative=r["comments_negative"])
                if r["comments_analysed"] is not None
                else None
            ),
        )
        for r in await conn.fetch(sql.load_posts, campaign_id)
    }


# "PULS": the sweep's session lock, held by one replica at a time.
SWEEP_LOCK = 0x5055_4C53


async def take_sweep_lock(conn: Connection) -> bool:
    """Whether this session now holds the sweep; another replica holding it answers False."""
    return bool(await conn.fetchval(sql.sweep_lock, SWEEP_LOCK))


async def release_sweep_lock(conn: Connection) -> None:
    await conn.execute(sql.sweep_unlock, SWEEP_LOCK)
