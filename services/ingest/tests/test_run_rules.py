"""Run rules: how a run's status follows from what the workflow and ingest saw, and which of
the organization's posts each reported outcome names."""

from __future__ import annotations

from uuid import uuid4

import pytest
from pydantic import ValidationError

from pulse_ingest.run_rules import Completion, Outcome, PostRef, lookup_keys, name_posts, settle


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        ({"posts_ok": 4, "posts_failed": 0}, ("success", None)),
        ({"posts_ok": 0, "posts_failed": 4}, ("failed", None)),
        ({"posts_ok": 3, "posts_failed": 1}, ("partial", None)),
        # Without outcomes the items decide: stored or already stored against refused.
        ({"accepted": 2, "duplicates": 1}, ("success", None)),
        ({"accepted": 1, "failed_items": 1}, ("partial", None)),
        ({"failed_items": 3}, ("failed", None)),
        # Outcomes outrank item counts: the workflow knows what it fetched.
        ({"posts_ok": 2, "failed_items": 5}, ("success", None)),
        ({}, ("failed", "no_posts")),
    ],
)
def test_a_runs_status(counts: dict[str, int], expected: tuple[str, str | None]) -> None:
    base = {"posts_ok": 0, "posts_failed": 0, "accepted": 0, "duplicates": 0, "failed_items": 0}
    assert settle(**(base | counts)) == expected


def _post(platform: str, url: str, ppid: str | None) -> PostRef:
    return PostRef(uuid4(), uuid4(), uuid4(), platform, ppid, url, False)


def test_outcomes_name_posts_by_id_url_or_the_urls_post_id_and_only_the_organizations() -> None:
    tiktok = _post(
        "tiktok", "https://www.tiktok.com/@a/video/7433917265401856302", "7433917265401856302"
    )
    youtube = _post("youtube", "https://www.youtube.com/watch?v=Kq7vX2mLp0Q", "Kq7vX2mLp0Q")
    outcomes = [
        Outcome(post_id=youtube.id, status="ok"),
        # Another spelling of the same TikTok video: found by the post id in its URL.
        Outcome(
            url="https://www.tiktok.com/@other/video/7433917265401856302?lang=en",
            status="failed",
            code="server_error",
        ),
        Outcome(post_id=uuid4(), status="ok"),  # e.g. another organization's post
        Outcome(url=youtube.url, platform="tiktok", status="ok"),
        Outcome(status="ok"),
    ]
    ids, urls, ppids = lookup_keys(outcomes)
    assert ids == sorted([youtube.id, outcomes[2].post_id])
    assert "7433917265401856302" in ppids
    assert youtube.url in urls
    named = name_posts(outcomes, [tiktok, youtube])
    assert [n.post for n in named[:2]] == [youtube, tiktok]
    assert [(n.index, n.post, n.code) for n in named[2:]] == [
        (2, None, "unknown_post"),
        (3, None, "platform_mismatch"),
        (4, None, "unknown_post"),
    ]


def test_a_completion_is_bounded_and_strict() -> None:
    with pytest.raises(ValidationError):
        Completion.model_validate({"outcomes": [{"url": "x", "status": "maybe"}]})
    with pytest.raises(ValidationError):
        Completion.model_validate({"outcomes": [{"status": "ok", "http_status": 42}]})
    with pytest.raises(ValidationError):
        Completion.model_validate({"outcomes": [{"status": "ok"}] * 1001})
    with pytest.raises(ValidationError):
        Completion.model_validate({"outcomes": [], "extra": 1})
