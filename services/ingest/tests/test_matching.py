"""Ingest's matching of items to tracked posts (pure domain, no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from pulse_ingest.domain import Candidate, Rejection, TrackedPost, match, prepare

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


def _post(platform: str = "tiktok", ppid: str = "123", *, removed: bool = False) -> TrackedPost:
    return TrackedPost(
        key=1,
        id=uuid4(),
        booking_id=uuid4(),
        campaign_id=uuid4(),
        platform=platform,  # type: ignore[arg-type]
        platform_post_id=ppid,
        url=f"https://www.tiktok.com/@a/video/{ppid}",
        removed=removed,
        posted_at=None,
        caption=None,
        thumb_url=None,
    )


def _candidate(item: dict[str, object]) -> Candidate:
    prepared = prepare(
        0, {"metrics": {"views": 5}, "observed_at": "2026-11-20T10:00:00Z", **item}, NOW
    )
    assert isinstance(prepared, Candidate), prepared
    return prepared


def test_one_public_post_booked_in_two_campaigns_gets_the_sample_in_both() -> None:
    first, second = _post(), _post()
    matches, rejected = match([_candidate({"platform_post_id": "123"})], [first, second], {})
    assert rejected == []
    assert {m.post.id for m in matches} == {first.id, second.id}


def test_a_post_id_names_exactly_one_post() -> None:
    first, second = _post(), _post()
    matches, _ = match([_candidate({"post_id": str(second.id)})], [first, second], {})
    assert [m.post.id for m in matches] == [second.id]


def test_a_url_in_another_form_finds_the_post_by_its_platform_id() -> None:
    post = _post(ppid="7433917265401856302")
    item = {"url": "https://m.tiktok.com/@a/video/7433917265401856302?lang=en"}
    matches, rejected = match([_candidate(item)], [post], {})
    assert rejected == []
    assert [m.post.id for m in matches] == [post.id]


def test_unknown_mismatched_and_removed_posts_are_rejected_with_reasons() -> None:
    removed = _post(ppid="9", removed=True)
    youtube = _post("youtube", ppid="abc")
    cases = [
        ({"platform_post_id": "nope"}, "unknown_post"),
        ({"post_id": str(youtube.id), "platform": "tiktok"}, "platform_mismatch"),
        ({"platform_post_id": "9"}, "post_removed"),
    ]
    for item, code in cases:
        matches, rejected = match([_candidate(item)], [removed, youtube], {0: item})
        assert matches == []
        assert [r.code for r in rejected] == [code]
        assert rejected[0].raw == item, "the item is kept as it was sent"


def test_an_observation_more_than_five_minutes_ahead_is_rejected() -> None:
    ahead = prepare(
        0,
        {
            "post_id": str(uuid4()),
            "metrics": {"views": 1},
            "observed_at": (NOW + timedelta(minutes=5, seconds=1)).isoformat(),
        },
        NOW,
    )
    assert isinstance(ahead, Rejection)
    assert ahead.code == "observed_at_in_future"
    within = prepare(
        0,
        {
            "post_id": str(uuid4()),
            "metrics": {"views": 1},
            "observed_at": (NOW + timedelta(minutes=5)).isoformat(),
        },
        NOW,
    )
    assert isinstance(within, Candidate)


def test_observed_at_defaults_to_receipt_and_naive_times_are_utc() -> None:
    assert _candidate({"post_id": str(uuid4()), "observed_at": None}).observed_at == NOW
    naive = _candidate({"post_id": str(uuid4()), "observed_at": "2026-11-20T09:00:00"})
    assert naive.observed_at == datetime(2026, 11, 20, 9, tzinfo=UTC)
