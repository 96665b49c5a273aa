"""The recomputer's choice of marks (lanes.py): a small campaign's batch never waits behind the
large campaigns marked before it, and large ones never take every worker."""

from __future__ import annotations

from uuid import UUID

from pulse_aggregator.lanes import LARGE_CAMPAIGN_POSTS, pick_marks
from pulse_aggregator.repository import DirtyCampaign

ORG = UUID(int=1)


def _mark(n: int) -> DirtyCampaign:
    return DirtyCampaign(UUID(int=100 + n), ORG, seq=n, correlation_id=f"c{n}")


def test_a_small_campaign_goes_before_older_marks_of_large_ones() -> None:
    marks = [_mark(n) for n in range(6)]  # oldest first
    sizes = {m.campaign_id: 200 for m in marks[:5]}  # five large, then the one-post probe
    sizes[marks[5].campaign_id] = 1
    chosen = pick_marks(marks, sizes, free=2, large_running=1, large_lanes=2)
    assert chosen == [marks[5], marks[0]]


def test_large_campaigns_never_take_more_than_their_lanes() -> None:
    marks = [_mark(n) for n in range(6)]
    sizes = {m.campaign_id: LARGE_CAMPAIGN_POSTS for m in marks}
    assert pick_marks(marks, sizes, free=4, large_running=0, large_lanes=2) == marks[:2]
    assert pick_marks(marks, sizes, free=2, large_running=2, large_lanes=2) == []
    # A lane freed by a finished large campaign goes to the oldest large mark.
    assert pick_marks(marks, sizes, free=3, large_running=1, large_lanes=2) == marks[:1]


def test_campaigns_not_computed_yet_count_as_small_and_keep_their_order() -> None:
    marks = [_mark(n) for n in range(5)]
    chosen = pick_marks(marks, {}, free=3, large_running=2, large_lanes=2)
    assert chosen == marks[:3]


def test_every_free_worker_is_used_when_there_is_work_for_it() -> None:
    marks = [_mark(n) for n in range(4)]
    sizes = {marks[0].campaign_id: 500, marks[1].campaign_id: 500}
    chosen = pick_marks(marks, sizes, free=4, large_running=0, large_lanes=2)
    assert chosen == [marks[2], marks[3], marks[0], marks[1]]
