"""Earned media value on the gateway's reads: each served numbers document is valued at the
organization's rates of that moment (pulse_contracts.emv), so a rate changed in Settings shows
on the very next read, with nothing recomputed or stored."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from pulse_contracts.emv import EmvRates, ValuedPost, emv_of

from .db import org_read
from .repository import organizations as repo

# The parts of a document EMV is read from.
NEEDS: tuple[str, ...] = ("bookings", "posts")


def wanted_parts(parts: Collection[str] | None) -> tuple[Collection[str] | None, bool]:
    """The parts to read for a request of `parts`, and whether the answer carries EMV: a read
    of the whole document, its bookings or its posts does (a list's campaign figures do not)."""
    if parts is None:
        return None, True
    if not any(p in NEEDS for p in parts):
        return parts, False
    return tuple(dict.fromkeys([*parts, *NEEDS])), True


async def organization_rates(pool: asyncpg.Pool, org_id: UUID) -> EmvRates:
    async with org_read(pool, org_id) as conn:
        return EmvRates.merged(await repo.emv_rates(conn, org_id=org_id))


@dataclass(frozen=True, slots=True)
class _Counters:
    views: int | None
    likes: int | None
    comments: int | None
    shares: int | None
    saves: int | None


def _counters(latest: Mapping[str, Any] | None) -> _Counters | None:
    if latest is None:
        return None
    return _Counters(
        latest.get("views"),
        latest.get("likes"),
        latest.get("comments"),
        latest.get("shares"),
        latest.get("saves"),
    )


def with_emv(
    document: dict[str, Any], rates: EmvRates, parts: Collection[str] | None
) -> dict[str, Any]:
    """The document (JSON) with its `emv`, and only the parts asked for besides. Read straight
    from the JSON the read model holds (it was validated when it arrived): parsing a thousand
    posts into models again would cost more than valuing them."""
    campaign = document["campaign"]
    emv = emv_of(
        [
            ValuedPost(p["post_id"], p["booking_id"], p["platform"], _counters(p.get("latest")))
            for p in document.get("posts", [])
        ],
        [(b["booking_id"], b.get("fee_cents", 0)) for b in document.get("bookings", [])],
        currency=campaign.get("currency"),
        spend_cents=campaign.get("spend_cents", 0),
        rates=rates,
    )
    valued = {**document, "emv": emv.as_json()}
    if parts is not None:
        for name in NEEDS:
            if name not in parts:
                valued.pop(name, None)
    return valued


def booking_emv(document: Mapping[str, Any] | None) -> dict[str, dict[str, Any]]:
    """Each booking's EMV and ROI by booking id (str), from a served document."""
    emv = (document or {}).get("emv") or {}
    return {str(b["booking_id"]): b for b in emv.get("bookings", [])}


def post_emv(document: Mapping[str, Any] | None) -> dict[str, int | None]:
    emv = (document or {}).get("emv") or {}
    return {str(p["post_id"]): p["emv_cents"] for p in emv.get("posts", [])}
