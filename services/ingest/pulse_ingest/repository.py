"""ingest's tables through asyncpg; SQL lives in sql/ beside this module."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from pulse_contracts.catalog import (
    ApiTokenRevoked,
    ApiTokenUpserted,
    CampaignDeleted,
    CampaignUpserted,
    OrganizationUpserted,
    PostRegistered,
    PostRemoved,
)
from pulse_runtime.db import Connection, SqlFiles, without_nul

from .comments import ScoredComment
from .domain import SOURCE_CODES, Match, Rejection, TrackedPost

SCHEMA = "ingest"
sql = SqlFiles(Path(__file__).parent / "sql")


async def find_token(conn: Connection, *, token_sha256: bytes) -> tuple[UUID, UUID] | None:
    """(token id, organization id) of a valid ingest token, and its last use recorded (the SQL
    writes at most once a minute; the token cache asks at most once per TTL)."""
    row = await conn.fetchrow(sql.find_token, token_sha256)
    if row is None:
        return None
    await conn.execute(sql.touch_token, token_sha256)
    return row["id"], row["org_id"]


async def load_posts(
    conn: Connection, *, org_id: UUID, ids: list[UUID], ppids: list[str], urls: list[str]
) -> list[TrackedPost]:
    rows = await conn.fetch(sql.load_posts, org_id, ids, ppids, urls)
    return [TrackedPost._make(row) for row in rows]


async def insert_samples(
    conn: Connection, *, matches: Sequence[Match], source: str
) -> set[tuple[int, datetime]]:
    """Insert new samples; returns the (post_key, observed_at) actually stored (not duplicates)."""
    # One order for every batch, so concurrent batches never deadlock on the unique index.
    ordered = sorted(matches, key=lambda m: (m.post.key, m.candidate.observed_at))
    counters = [m.candidate.metrics for m in ordered]
    code = SOURCE_CODES[source]
    rows = await conn.fetch(
        sql.insert_samples,
        [m.post.key for m in ordered],
        [m.candidate.observed_at for m in ordered],
        [c.views for c in counters],
        [c.likes for c in counters],
        [c.comments for c in counters],
        [c.shares for c in counters],
        [c.saves for c in counters],
        [c.reach for c in counters],
        [code] * len(ordered),
        [m.candidate.estimated for m in ordered],
    )
    return {(row[0], row[1]) for row in rows}


async def update_post_facts(
    conn: Connection, facts: Sequence[tuple[UUID, datetime | None, str | None, str | None]]
) -> list[asyncpg.Record]:
    if not facts:
        return []
    ids, posted, captions, thumbs = (list(col) for col in zip(*facts, strict=True))
    captions, thumbs = without_nul(captions), without_nul(thumbs)
    return list(await conn.fetch(sql.update_post_facts, ids, posted, captions, thumbs))


async def insert_rejections(
    conn: Connection, *, org_id: UUID | None, channel: str, rejections: Sequence[Rejection]
) -> None:
    if not rejections:
        return
    await conn.execute(
        sql.insert_rejections,
        org_id,
        channel,
        [r.index for r in rejections],
        [r.code for r in rejections],
        [without_nul(r.message) for r in rejections],
        [_as_json(r.raw) for r in rejections],
    )


def _as_json(raw: Any) -> Any:
    # Anything that arrived is kept: what jsonb cannot hold as a value (an out-of-range number
    # that parsed as Infinity, anything too deep) is kept as its text, NUL as U+FFFD.
    try:
        json.dumps(raw, allow_nan=False)
    except (TypeError, ValueError, RecursionError):
        return {"unparsed": without_nul(repr(raw)[:100_000])}
    return without_nul(raw)


async def upsert_organization(conn: Connection, org: OrganizationUpserted) -> None:
    await conn.execute(
        sql.upsert_organization, org.id, org.name, org.is_test, org.settings, org.updated_at
    )


async def upsert_token(conn: Connection, token: ApiTokenUpserted) -> None:
    await conn.execute(
        sql.upsert_token,
        token.id,
        token.org_id,
        token.name,
        bytes.fromhex(token.token_sha256),
        list(token.scopes),
        token.updated_at,
    )


async def revoke_token(conn: Connection, token: ApiTokenRevoked) -> None:
    await conn.execute(sql.revoke_token, token.id, token.org_id, token.revoked_at)


async def register_post(
    conn: Connection, org_id: UUID, post: PostRegistered
) -> asyncpg.Record | None:
    """The post's (removed, deleted) flags when this registration was applied, else None."""
    return await conn.fetchrow(
        sql.register_post,
        post.id,
        org_id,
        post.booking_id,
        post.campaign_id,
        post.platform,
        post.url,
        post.platform_post_id,
        post.registered_at,
    )


async def remove_post(conn: Connection, org_id: UUID, post: PostRemoved) -> None:
    await conn.execute(
        sql.remove_post, post.id, org_id, post.booking_id, post.campaign_id, post.removed_at
    )


async def sample_history(
    conn: Connection, *, org_id: UUID, post_id: UUID, after: datetime, limit: int
) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.sample_history, post_id, org_id, after, limit))


async def rejected_items(
    conn: Connection, *, org_id: UUID, before_id: int, limit: int, code: str | None = None
) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.rejected_items, org_id, before_id, limit, code))


async def refused_summary(conn: Connection, *, since: datetime) -> asyncpg.Record:
    """Messages kept with no organization (a missing or unknown x-pulse-key): all of them,
    those received after `since`, and the newest one's time."""
    row = await conn.fetchrow(sql.refused_summary, since)
    assert row is not None  # an aggregate always returns its row
    return row


async def refused_messages(conn: Connection, *, limit: int, raw_chars: int) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.refused_messages, limit, raw_chars))


# --- campaigns, organizations ------------------------------------------------------------


async def upsert_campaign(conn: Connection, org_id: UUID, campaign: CampaignUpserted) -> None:
    await conn.execute(
        sql.upsert_campaign,
        campaign.id,
        org_id,
        campaign.status,
        campaign.end_date,
        campaign.updated_at,
    )


async def delete_campaign(conn: Connection, org_id: UUID, campaign: CampaignDeleted) -> None:
    await conn.execute(sql.delete_campaign, campaign.id, org_id, campaign.deleted_at)


async def org_is_test(conn: Connection, org_id: UUID) -> bool:
    return bool(await conn.fetchval(sql.org_is_test, org_id))


# --- pulling ---------------------------------------------------------------------------------


async def mark_queued(conn: Connection, post_ids: Sequence[UUID], at: datetime) -> None:
    await conn.execute(sql.mark_queued, list(post_ids), at)


async def fetch_targets(
    conn: Connection, org_id: UUID, post_ids: Sequence[UUID]
) -> dict[UUID, asyncpg.Record]:
    rows = await conn.fetch(sql.fetch_targets, org_id, list(post_ids))
    return {row["id"]: row for row in rows}


async def org_paused(conn: Connection, org_id: UUID) -> bool:
    return bool(await conn.fetchval(sql.org_paused, org_id))


async def insert_pull_runs(
    conn: Connection,
    *,
    org_id: UUID,
    command_id: UUID,
    priority: str,
    reason: str,
    runs: Sequence[tuple[UUID, Any]],
) -> None:
    """`runs`: (post_id, provider PullRun) pairs."""
    if not runs:
        return
    await conn.execute(
        sql.insert_pull_runs,
        org_id,
        command_id,
        priority,
        reason,
        [post_id for post_id, _ in runs],
        [r.platform for _, r in runs],
        [r.status for _, r in runs],
        [r.http_status for _, r in runs],
        [r.latency_ms for _, r in runs],
        [r.credits for _, r in runs],
        [r.attempts for _, r in runs],
        [r.error_code for _, r in runs],
        [r.error for _, r in runs],
        [r.started_at for _, r in runs],
    )


async def record_success(conn: Connection, post_id: UUID, at: datetime) -> None:
    await conn.execute(sql.record_success, post_id, at)


async def record_failure(
    conn: Connection,
    post_id: UUID,
    *,
    at: datetime,
    error_code: str,
    error: str,
    not_found: bool,
    give_up_after: timedelta,
) -> asyncpg.Record | None:
    """(consecutive_failures, deleted_seen_at, deleted_at) after this failure."""
    return await conn.fetchrow(
        sql.record_failure, post_id, at, error_code, not_found, give_up_after, error
    )


async def record_skip(
    conn: Connection, post_ids: Sequence[UUID], error_code: str, error: str
) -> None:
    if post_ids:
        await conn.execute(sql.record_skip, list(post_ids), error_code, error)


async def clear_queued(conn: Connection, post_ids: Sequence[UUID]) -> None:
    if post_ids:
        await conn.execute(sql.clear_queued, list(post_ids))


async def pause_org(conn: Connection, org_id: UUID, at: datetime, reason: str) -> None:
    await conn.execute(sql.pause_org, org_id, at, reason)


async def resume_orgs(conn: Connection, org_ids: Sequence[UUID] | None, at: datetime) -> list[UUID]:
    rows = await conn.fetch(sql.resume_orgs, None if org_ids is None else list(org_ids), at)
    return [row["org_id"] for row in rows]


async def provider_state(conn: Connection, org_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(sql.provider_state, org_id)


async def any_paused(conn: Connection) -> bool:
    return bool(await conn.fetchval(sql.any_paused))


async def count_paused(conn: Connection) -> int:
    return int(await conn.fetchval(sql.count_paused))


async def scheduler_candidates(
    conn: Connection, *, now: datetime, min_interval: timedelta, queue_timeout: timedelta
) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.scheduler_candidates, now, min_interval, queue_timeout))


async def pull_status(conn: Connection, org_id: UUID, campaign_id: UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.pull_status, org_id, campaign_id))


async def pull_runs(
    conn: Connection, *, org_id: UUID, post_id: UUID, before_id: int, limit: int
) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.pull_runs, org_id, post_id, before_id, limit))


async def manual_target(conn: Connection, org_id: UUID, post_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(sql.manual_target, org_id, post_id)


# --- webhook signing -------------------------------------------------------------------------


async def lock_signing(conn: Connection, org_id: UUID) -> bool:
    """Lock the organization's signing row (created when missing); returns signing_required."""
    await conn.execute(sql.lock_signing, org_id)
    return bool(await conn.fetchval(sql.signing_settings, org_id))


async def active_secrets(conn: Connection, org_id: UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.active_secrets, org_id))


async def list_secrets(conn: Connection, org_id: UUID) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.list_secrets, org_id))


async def insert_secret(
    conn: Connection, *, secret_id: UUID, org_id: UUID, sealed: bytes, hint: str, at: datetime
) -> None:
    await conn.execute(sql.insert_secret, secret_id, org_id, sealed, hint, at)


async def retire_secret(conn: Connection, org_id: UUID, secret_id: UUID, at: datetime) -> bool:
    return await conn.fetchval(sql.retire_secret, org_id, secret_id, at) is not None


async def set_signing_required(conn: Connection, org_id: UUID, required: bool) -> None:
    await conn.execute(sql.set_signing_required, org_id, required)


async def webhook_signing(conn: Connection, org_id: UUID) -> tuple[bool, list[bytes]]:
    row = await conn.fetchrow(sql.webhook_signing, org_id)
    if row is None:
        return False, []
    return bool(row["required"]), [bytes(b) for b in row["sealed"]]


# --- comments --------------------------------------------------------------------------------


async def due_comments(
    conn: Connection, *, now: datetime, every: timedelta, limit: int
) -> list[asyncpg.Record]:
    """(id, org_id, command_id) of posts whose comments are due, oldest pull first."""
    return list(await conn.fetch(sql.due_comments, now, every, limit))


async def claim_comment_pulls(
    conn: Connection, org_id: UUID, post_ids: Sequence[UUID], *, now: datetime, every: timedelta
) -> list[asyncpg.Record]:
    """The posts among `post_ids` whose comments are due, stamped as checked at `now`."""
    if not post_ids:
        return []
    return list(await conn.fetch(sql.claim_comment_pulls, org_id, list(post_ids), now, every))


async def release_comment_claim(conn: Connection, post_id: UUID, claimed_at: datetime) -> None:
    await conn.execute(sql.release_comment_claim, post_id, claimed_at)


async def insert_comment_pull(
    conn: Connection,
    *,
    org_id: UUID,
    post_id: UUID,
    command_id: UUID,
    run: Any,
    pages: int,
    received: int,
    new_comments: int,
) -> None:
    """`run`: the provider's PullRun of the comments fetch."""
    await conn.execute(
        sql.insert_comment_pull,
        org_id,
        post_id,
        command_id,
        run.platform,
        run.status,
        run.http_status,
        run.latency_ms,
        run.credits,
        run.attempts,
        pages,
        received,
        new_comments,
        run.error_code,
        run.error,
        run.started_at,
    )


async def insert_comments(
    conn: Connection, post_id: UUID, at: datetime, comments: Sequence[ScoredComment]
) -> int:
    """Store the comments not seen before (scored), refresh the like counts of the others;
    returns how many were new."""
    if not comments:
        return 0
    # One order for every fetch, so concurrent fetches never deadlock on the primary key.
    ordered = sorted(comments, key=lambda c: c.comment_id)
    rows = await conn.fetch(
        sql.insert_comments,
        post_id,
        at,
        [c.comment_id for c in ordered],
        without_nul([c.text for c in ordered]),
        without_nul([c.author_handle for c in ordered]),
        [c.commented_at for c in ordered],
        [c.like_count for c in ordered],
        [c.sentiment.compound for c in ordered],
        [c.sentiment.label for c in ordered],
    )
    return sum(1 for row in rows if row["inserted"])


async def comment_counts(conn: Connection, post_id: UUID) -> asyncpg.Record:
    row = await conn.fetchrow(sql.comment_counts, post_id)
    assert row is not None  # an aggregate always answers one row
    return row


async def comment_summary(conn: Connection, org_id: UUID, post_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(sql.comment_summary, org_id, post_id)


async def post_comments(conn: Connection, post_id: UUID, limit: int) -> list[asyncpg.Record]:
    return list(await conn.fetch(sql.post_comments, post_id, limit))
