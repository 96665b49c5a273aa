"""The booking list's answer is built by splicing each held snapshot into the rows' JSON
(api/bookings.booking_page_json): it must be the same JSON document BookingPage gives."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

from pulse_gateway.api.bookings import BookingPage, booking_page_json
from pulse_gateway.http_cache import dumps


def row(**extra: Any) -> dict[str, Any]:
    at = datetime(2026, 11, 20, 12, 0, 0, 123456, tzinfo=UTC)
    return {
        "id": uuid4(),
        "campaign_id": uuid4(),
        "influencer_id": uuid4(),
        "influencer_name": 'Ana "Sol" — ünïcode',
        "fee_cents": 150_000,
        "committed_views": None,
        "committed_engagement": 10,
        "committed_posts": 2,
        "min_engagement_rate": 0.035,
        "exclusivity_days": None,
        "usage_rights_days": 30,
        "notes": "line\none",
        "created_at": at,
        "updated_at": at,
        "org_id": uuid4(),  # a column the answer does not carry
        **extra,
    }


def test_the_spliced_page_is_the_models_page() -> None:
    rows = [row(), row(), row()]
    snapshots = {
        str(rows[0]["id"]): {"actual_views": 12_345, "engagement_rate": 0.0523, "recent": []},
        str(rows[1]["id"]): {"name": "ünï", "forecast": None, "cpm": 12.5},
    }  # the third booking has no numbers yet: null
    for cursor in (None, "MjAyNi0xMS0yMFQxMjowMDowMHwx"):
        spliced = booking_page_json(rows, cursor, {k: dumps(v) for k, v in snapshots.items()})
        modelled = BookingPage.model_validate(
            {
                "items": [{**r, "kpis": snapshots.get(str(r["id"]))} for r in rows],
                "next_cursor": cursor,
            }
        ).model_dump_json()
        assert json.loads(spliced) == json.loads(modelled)
        assert list(json.loads(spliced)["items"][0]) == list(json.loads(modelled)["items"][0])
    assert json.loads(booking_page_json([], None, {})) == {"items": [], "next_cursor": None}
