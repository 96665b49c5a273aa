"""Pure rules behind the alert triage list and the influencer filters."""

from __future__ import annotations

from typing import Any

from pulse_gateway.pages.alerts import grouped
from pulse_gateway.pages.influencers import matching, reach


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


def test_influencers_filter_by_tier_platform_and_audience() -> None:
    people = [
        {"tier": "Macro", "handles": [{"platform": "tiktok", "followers": 1_800_000}]},
        {"tier": "micro", "handles": [{"platform": "youtube", "followers": None}]},
        {
            "tier": None,
            "handles": [
                {"platform": "instagram", "followers": 60_000},
                {"platform": "youtube", "followers": 50_000},
            ],
        },
    ]
    for p in people:
        p["reach"] = reach(p["handles"])
    assert [p["reach"] for p in people] == [1_800_000, None, 110_000]

    def pick(**filters: Any) -> list[int]:
        chosen = matching(people, **{"tier": "", "platform": "", "min_followers": 0, **filters})
        return [people.index(p) for p in chosen]

    assert pick() == [0, 1, 2]
    assert pick(tier="macro") == [0]
    assert pick(platform="youtube") == [1, 2]
    assert pick(min_followers=100_000) == [0, 2]  # over every handle; unknown is not 100K+
    assert pick(platform="youtube", min_followers=1_000_000) == []
