"""Compare at the same campaign day: a young campaign is not judged on totals it had no time
to reach."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from pulse_gateway.pacing import pacing

TODAY = date(2026, 12, 6)


def doc(
    name: str, start: date, end: date, views: list[int], committed: int | None
) -> dict[str, Any]:
    return {
        "campaign": {
            "campaign_id": f"id-{name}",
            "name": name,
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
            "timeline_pct": 50.0,
            "committed_views": committed,
        },
        "daily": [
            {"date": (start + timedelta(days=i)).isoformat(), "views_cum": v}
            for i, v in enumerate(views)
        ],
    }


def test_the_same_day_is_the_latest_every_campaign_has_reached() -> None:
    old = doc(
        "Old",
        TODAY - timedelta(days=9),
        TODAY + timedelta(days=2),
        [10 * i for i in range(1, 11)],
        200,
    )
    young = doc("Young", TODAY - timedelta(days=2), TODAY + timedelta(days=12), [5, 40, 90], 100)
    found = pacing([old, young], TODAY)
    assert found.common_day == 3
    assert [p.day for p in found.paces] == [10, 3]
    # Day 3 of each: 30 views for the old one, 90 for the young one (which paces better).
    assert [p.views_at_common_day for p in found.paces] == [30, 90]
    assert found.unit == "pct"
    assert found.days == list(range(1, 11))
    assert found.series[0][:3] == [5.0, 10.0, 15.0]
    assert found.series[1] == [5.0, 40.0, 90.0] + [None] * 7


def test_without_every_commitment_the_chart_is_in_views_and_ended_campaigns_stop_at_their_end() -> (
    None
):
    ended = doc(
        "Ended", TODAY - timedelta(days=20), TODAY - timedelta(days=18), [1, 2, 3, 4, 5], None
    )
    live = doc("Live", TODAY - timedelta(days=1), TODAY + timedelta(days=5), [7, 8], 10)
    found = pacing([ended, live], TODAY)
    assert found.unit == "views"
    assert [p.day for p in found.paces] == [3, 2]
    assert found.common_day == 2
    assert found.series[0] == [1.0, 2.0, 3.0, None, None]  # the days after its end are not pacing


def test_a_campaign_not_started_has_no_common_day() -> None:
    soon = doc("Soon", TODAY + timedelta(days=3), TODAY + timedelta(days=9), [], 100)
    live = doc("Live", TODAY - timedelta(days=1), TODAY + timedelta(days=5), [7, 8], 10)
    found = pacing([soon, live], TODAY)
    assert found.common_day is None
    assert [p.day for p in found.paces] == [None, 2]
    assert [p.views_at_common_day for p in found.paces] == [None, None]
