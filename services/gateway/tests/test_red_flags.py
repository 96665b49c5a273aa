"""The Health screen's red flags from ingest's view and the queue depths: raised only when
something needs an operator, each with a link to what to do."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

from pulse_contracts.internal.ingest_operations import RedFlags
from pulse_gateway.operations import red_flags

PROVIDER_OK: dict[str, Any] = {
    "paused": False,
    "paused_reason": None,
    "paused_at": None,
    "open_circuits": [],
}
QUIET = RedFlags.model_validate(
    {"stale_posts": [], "runs": [], "provider": PROVIDER_OK, "outbox_lag_s": 0.4}
)
CAMPAIGN = uuid4()


def _run(status: str, reason: str | None) -> dict[str, Any]:
    """A run as ingest's /red-flags lists it."""
    run_id = str(uuid4())
    return {
        "id": run_id,
        "source": "n8n",
        "status": status,
        "reason": reason,
        "name": "Pulse metrics",
        "started_at": "2026-12-06T04:00:00+00:00",
        "posts_failed": 1,
        "provider_errors": 1,
        "run_id": run_id,
    }


def test_a_quiet_system_raises_no_flag() -> None:
    assert (
        red_flags(QUIET, {"ingest.items": 3, "ingest.items.dlq": 0, "gateway.numbers": None}) == []
    )


def test_each_problem_raises_its_flag_with_where_to_act() -> None:
    answer = {
        "stale_posts": [
            {
                "id": str(uuid4()),
                "campaign_id": str(CAMPAIGN),
                "platform": "tiktok",
                "url": "https://www.tiktok.com/@a/video/1",
                "last_success_at": None,
                "consecutive_failures": 3,
                "last_error_code": "not_found",
            }
        ],
        "runs": [_run("failed", "timed_out"), _run("partial", None), _run("partial", None)],
        "provider": {
            "paused": True,
            "paused_reason": "out_of_credits",
            "paused_at": "2026-12-06T05:00:00+00:00",
            "open_circuits": ["instagram"],
        },
        "outbox_lag_s": 120.0,
    }
    found = RedFlags.model_validate(answer)
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
    assert flags["stale_posts"].href == f"/campaigns/{CAMPAIGN}"
    assert "not_found" in flags["stale_posts"].detail
    assert (flags["runs_failed"].href, flags["runs_failed"].count) == ("/runs?status=failed", 1)
    assert "timed_out" in flags["runs_failed"].detail
    assert flags["runs_partial"].count == 2
    # The moment as ingest's JSON writes it, as the detail read before the answer was typed.
    assert flags["out_of_credits"].detail.endswith(
        "since 2026-12-06T05:00:00+00:00 (out_of_credits)"
    )
    assert flags["dlq"].count == 3
    assert flags["dlq"].severity == "critical"
    assert flags["backlog"].detail == "ingest.items: 5000"
    assert all(f.remedy and f.href for f in flags.values())
