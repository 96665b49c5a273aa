"""Benchmark bodies and rollups, pure: the provider's shapes (the fake's crafted fixtures) and
the edge cases of docs/insights.md's definitions."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from importlib import resources

import pytest

from pulse_ingest.benchmark_domain import (
    BenchmarkPost,
    DayRecord,
    next_page,
    parse_posts,
    parse_profile,
    rollup,
    window_tags,
)
from pulse_ingest.provider_bodies import ProviderBodyError

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


def _fixture(name: str) -> dict[str, object]:
    folder = resources.files("fake_scrapecreators") / "templates"
    body: dict[str, object] = json.loads((folder / name).read_text(encoding="utf-8"))
    return body


def test_the_crafted_fixtures_read_as_documented() -> None:
    tt = parse_profile("tiktok", _fixture("tiktok_profile.json"))
    assert (tt.handle, tt.followers, tt.private) == ("lumen.beauty", 412000, False)
    ig = parse_profile("instagram", _fixture("instagram_profile.json"))
    assert (ig.handle, ig.followers, ig.private) == ("lumen.beauty", 128400, False)
    [video] = parse_posts("tiktok", _fixture("tiktok_profile_videos.json"))
    assert (video.platform_post_id, video.views, video.likes, video.saves) == (
        "7460000000000000001",
        240500,
        18200,
        310,
    )
    assert video.caption == "Winter glow routine #skincare #GlowUp @maya.styles"
    [post] = parse_posts("instagram", _fixture("instagram_user_posts.json"))
    assert (post.platform_post_id, post.views, post.shares, post.saves) == (
        "DCraftedA1",
        96400,
        None,
        None,
    )
    assert next_page("tiktok", _fixture("tiktok_profile_videos.json")) == {
        "max_cursor": "1763000000000"
    }
    assert next_page("instagram", _fixture("instagram_user_posts.json")) == {
        "next_max_id": "3500000000000000000_5123456789"
    }


@pytest.mark.parametrize(
    ("platform", "body"),
    [
        ("tiktok", {"statusCode": 10221, "user": None}),
        ("tiktok", {"success": False, "message": "User not found"}),
        ("instagram", {"data": {"user": None}, "status": "ok"}),
    ],
)
def test_an_account_the_provider_does_not_know_is_unknown(
    platform: str, body: dict[str, object]
) -> None:
    with pytest.raises(ProviderBodyError) as found:
        parse_profile(platform, body)
    assert found.value.code == "unknown_handle"


def test_a_private_account_is_marked_private() -> None:
    body = _fixture("instagram_profile.json")
    body["data"]["user"]["is_private"] = True  # type: ignore[index]
    assert parse_profile("instagram", body).private


def _post(days_ago: float, views: int | None, likes: int = 10, caption: str = "") -> BenchmarkPost:
    return BenchmarkPost(
        platform_post_id=f"p{days_ago}-{views}",
        posted_at=NOW - timedelta(days=days_ago),
        caption=caption,
        views=views,
        likes=likes,
        comments=0,
        shares=None,
        saves=None,
    )


def test_rollup_counts_the_30_day_window_and_leaves_hidden_views_out() -> None:
    posts = [
        _post(1, 100, likes=10),
        _post(2, 300, likes=3),
        _post(3, None, likes=50),  # a photo: no views
        _post(29.9, 200, likes=0),
        _post(30, 10_000),  # exactly 30 days: outside
        _post(-1, 10_000),  # in the future of the pull: outside
    ]
    figures = rollup(posts=posts, followers=1000, history=[], as_of=NOW)
    assert figures.posts_30d == 4
    assert figures.posts_per_week == 0.93  # 4 × 7 / 30 = 0.9333…
    assert figures.median_views == 200
    # rates 10 %, 1 %, 0 % → median 1 %
    assert figures.median_engagement_rate == 1.0
    assert figures.follower_growth_pct is None
    assert figures.growth_days is None


def test_growth_is_measured_from_the_oldest_day_of_the_last_30() -> None:
    today = NOW.date()
    history = [
        DayRecord(today - timedelta(days=31), 1, 1.0),  # too old
        DayRecord(today - timedelta(days=20), 800, 150.0),
        DayRecord(today - timedelta(days=3), 900, 180.0),
    ]
    figures = rollup(
        posts=[_post(1, 200), _post(2, 100)], followers=1000, history=history, as_of=NOW
    )
    assert figures.follower_growth_pct == 25.0  # 1000 / 800
    assert figures.view_growth_pct == 0.0  # median 150 against 150
    assert figures.growth_days == 20
    assert (
        rollup(
            posts=[], followers=10, history=[DayRecord(date(2026, 11, 30), 0, None)], as_of=NOW
        ).follower_growth_pct
        is None
    )  # a zero baseline has no growth


def test_window_tags_count_each_post_once_per_tag() -> None:
    posts = [
        _post(1, 100, likes=10, caption="#Glow #glow @Brand"),
        _post(2, None, likes=5, caption="#glow!"),
        _post(40, 999, caption="#glow"),  # outside the window
    ]
    assert window_tags(posts, NOW) == [
        ("hashtag", "glow", 2, 100, 15),
        ("mention", "brand", 1, 100, 10),
    ]
