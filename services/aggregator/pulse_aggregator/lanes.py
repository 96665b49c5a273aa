"""Which marked campaigns the recomputer starts next — pure.

The aggregator computes campaigns in one process, a few at a time, and a large campaign's
recompute holds the event loop for milliseconds at a stretch (its document is built in one
go). Taken oldest mark first, a one-post campaign whose batch just arrived waited behind
every large campaign marked before it, and large campaigns under steady load are marked again
and again: bench P2 measured seconds at p95 for a sample of a small campaign to be out in its
numbers. So small campaigns go first, and large ones share at most `large_lanes` workers; the
others stay free for small ones. Large campaigns lose nothing under their own load: their
recomputes are bound by the CPU, which more lanes would not add, and every mark is still taken.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import UUID

from .repository import DirtyCampaign

# From this many tracked posts a campaign is large: its document (posts, daily series, every
# booking's forecast path) takes ~10 ms or more to build on this hardware.
LARGE_CAMPAIGN_POSTS = 100


def is_large(sizes: Mapping[UUID, int], campaign_id: UUID) -> bool:
    """Large by its tracked posts at its last recompute; unknown (not yet computed) is small."""
    return sizes.get(campaign_id, 0) >= LARGE_CAMPAIGN_POSTS


def pick_marks(
    marks: Sequence[DirtyCampaign],
    sizes: Mapping[UUID, int],
    *,
    free: int,
    large_running: int,
    large_lanes: int,
) -> list[DirtyCampaign]:
    """Up to `free` of `marks` (oldest first, as read): small campaigns first in their order,
    then large ones in theirs while fewer than `large_lanes` large ones are running."""
    small = [m for m in marks if not is_large(sizes, m.campaign_id)]
    large = [m for m in marks if is_large(sizes, m.campaign_id)]
    chosen = small[:free]
    room = min(free - len(chosen), max(large_lanes - large_running, 0))
    return chosen + large[:room]
