"""The Health screen's red flags from ingest's view and the queue depths: raised only when
something needs an operator, each with a link to what to do."""

from __future__ import annotations

from typing import Any

from pulse_gateway.operations import red_flags

QUIET: dict[str, Any] = {
    "stale_posts": [],
    "runs": [],
    "provider": {"paused": False, "open_circuits": []},
    "outbox_lag_s": 0.4,
}


def test_a_quiet_system_raises_no_flag() -> None:
    assert (
        red_flags(QUIET, {"ingest.items": 3, "ingest.items.dlq": 0, "gateway.numbers": None}) == []
    )


def test_each_problem_raises_its_flag_with_where_to_act() -> None:
    found = {
        "stale_posts": [
            {
                "campaign_id": "c1",
                "url": "https://www.tiktok.com/@a/video/1",
                "last_error_code": "not_found",
            }
        ],
        "runs": [
            {"status": "failed", "reason": "timed_out"},
            {"status": "partial", "reason": None},
            {"status": "partial", "reason": None},
        ],
        "provider": {
            "paused": True,
            "paused_reason": "out_of_credits",
            "paused_at": "2026-12-06T05:00:00Z",
            "open_circuits": ["instagram"],
        },
        "outbox_lag_s": 120.0,
    }
    depths = {"ingest.items": 5000, "ingest.items.dlq": 2, "alerter.events.dlq": 1}
    flags = {f.key: f for f in red_flags(found, depths)}
    assert set(flags) == {
        "stale_posts",
        "runs_failed",
        "runs_partial",
        "out_of_credits",
        "circuit_open",
        "dlq",
        "backlog",
        "outbox_lag",
    }
    assert flags["stale_posts"].href == "/campaigns/c1"
    assert "not_found" in flags["stale_posts"].detail
    assert (flags["runs_failed"].href, flags["runs_failed"].count) == ("/runs?status=failed", 1)
    assert "timed_out" in flags["runs_failed"].detail
    assert flags["runs_partial"].count == 2
    assert flags["dlq"].count == 3
    assert flags["dlq"].severity == "critical"
    assert flags["backlog"].detail == "ingest.items: 5000"
    assert all(f.remedy and f.href for f in flags.values())
