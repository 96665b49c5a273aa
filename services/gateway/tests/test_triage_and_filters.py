"""Pure rules behind the alert triage list and the influencers' audience."""

from __future__ import annotations

from typing import Any

from pulse_gateway.pages.alerts import grouped
from pulse_gateway.pages.influencers import reach


def alert(id_: str, type_: str, booking: str | None, status: str = "open") -> dict[str, Any]:
    return {"id": id_, "type": type_, "campaign_id": "c1", "booking_id": booking, "status": status}


def test_lookalike_alerts_fold_under_the_first_and_follow_it() -> None:
    alerts = [
        alert("a", "viral", "maya"),
        alert("b", "under_kpi", None),
        alert("c", "viral", "maya"),
        alert("d", "under_kpi", None),  # campaign-wide: never folded with another
        alert("e", "viral", "maya", status="resolved"),
        alert("f", "viral", "jonas"),
    ]
    found = grouped(alerts)
    assert [a["id"] for a in found] == ["a", "c", "b", "d", "e", "f"]
    assert [a["group"] for a in found] == ["a", "a", "b", "d", "e", "f"]
    assert [a["similar"] for a in found] == [1, 0, 0, 0, 0, 0]


def test_a_creators_audience_is_every_handle_it_has_a_count_for() -> None:
    # What the roster's Followers column shows (its filters are tested on a real roster in
    # test_pages.test_the_roster_lists_and_filters_every_creator_a_page_at_a_time).
    assert reach([{"platform": "tiktok", "followers": 1_800_000}]) == 1_800_000
    assert reach([{"platform": "youtube", "followers": None}]) is None
    assert reach([{"platform": "instagram", "followers": 60_000}, {"followers": 50_000}]) == 110_000
    assert reach([]) is None
