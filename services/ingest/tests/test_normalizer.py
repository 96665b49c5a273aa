"""Tests for the ScrapeCreators body normalizer against the shared crafted fixtures."""

import copy
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pulse_ingest.normalizer import (
    NormalizedPost,
    detect_platform,
    looks_like_provider_body,
    normalize,
)
from pulse_ingest.provider_bodies import ProviderBodyError


def _fixtures_dir() -> Path:
    override = os.environ.get("PULSE_FIXTURES_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "scrapecreators"


FIXTURES = _fixtures_dir()


def load(name: str) -> dict[str, Any]:
    body = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    assert isinstance(body, dict)
    return body


# Expected values are copied by hand from the fixture files so that a wrong JSON path fails.
EXPECTED_POSTS: dict[str, NormalizedPost] = {
    "tiktok_video.json": NormalizedPost(
        platform="tiktok",
        platform_post_id="7433917265401856302",
        author_handle="maya.styles",
        posted_at=datetime(2024, 11, 5, 13, 14, 15, tzinfo=UTC),
        views=1843211,
        likes=152044,
        comments=2311,
        shares=8734,
        saves=20456,
        reach=None,
        thumb_url=(
            "https://p16-sign.tiktokcdn-us.com/tos-useast5-p-0068-tx/"
            "oQ3mEfAaB9cD8eF7gH6iJ5kL4mN3oP2qR~tplv-tiktokx-cropcenter-q:300:400:q72.jpeg"
            "?x-expires=1731571200&s=AWEME_DETAIL&sc=cover"
        ),
        caption=(
            "3 ways to style one linen shirt for a week in Lisbon \u2600\ufe0f "
            "#ootd #linen #travelstyle @lisbonlinen"
        ),
        permalink="https://www.tiktok.com/@maya.styles/video/7433917265401856302",
    ),
    "instagram_post.json": NormalizedPost(
        platform="instagram",
        platform_post_id="DCFq3xRu4Jk",
        author_handle="maya.styles",
        posted_at=datetime(2024, 11, 5, 13, 23, 19, tzinfo=UTC),
        views=248907,
        likes=18420,
        comments=187,
        shares=None,
        saves=None,
        reach=None,
        thumb_url=(
            "https://scontent-lga3-2.cdninstagram.com/v/t51.29350-15/"
            "465512344_1123581321345589_2718281828459045235_n.jpg"
            "?stp=dst-jpg_e15_p1080x1080&_nc_ht=scontent-lga3-2.cdninstagram.com"
            "&oh=00_AYC2y&oe=6735F0A1"
        ),
        caption=(
            "One linen shirt, three Lisbon looks \U0001f34b Which one are you wearing? "
            "#ootd #linen #travelstyle #ad @lisbonlinen"
        ),
        permalink="https://www.instagram.com/reel/DCFq3xRu4Jk/",
    ),
    "youtube_video.json": NormalizedPost(
        platform="youtube",
        platform_post_id="Kq7vX2mLp9A",
        author_handle="mayastyles",
        posted_at=datetime(2024, 11, 4, 17, 0, 6, tzinfo=UTC),
        views=612930,
        likes=23518,
        comments=1204,
        shares=None,
        saves=None,
        reach=None,
        thumb_url="https://img.youtube.com/vi/Kq7vX2mLp9A/maxresdefault.jpg",
        caption=(
            "I Packed for 10 Days in Lisbon With ONE Carry-On (capsule wardrobe)\n\n"
            "Everything I packed for ten days in Lisbon, plus three ways to wear the linen "
            "shirt from @lisbonlinen (paid partnership).\n\n"
            "00:00 Intro\n01:12 The capsule\n07:40 Styling the linen shirt"
        ),
        permalink="https://www.youtube.com/watch?v=Kq7vX2mLp9A",
    ),
    "facebook_post.json": NormalizedPost(
        platform="facebook",
        platform_post_id="1098765432109876",
        author_handle="mayastyles",
        posted_at=datetime(2024, 11, 5, 17, 30, 12, tzinfo=UTC),
        views=88400,
        likes=3412,
        comments=96,
        shares=211,
        saves=None,
        reach=None,
        thumb_url=(
            "https://scontent-lga3-2.xx.fbcdn.net/v/t15.5256-10/"
            "465901234_1187654321098765_5550123456789012345_n.jpg"
            "?stp=dst-jpg_s960x960&_nc_cat=100&oh=00_AYH7d&oe=6735B3D4"
        ),
        caption=(
            "One linen shirt, three looks for a week in Lisbon \u2600\ufe0f "
            "Which one would you wear? #ad @Lisbon Linen Co."
        ),
        permalink="https://www.facebook.com/reel/1187654321098765",
    ),
}

EXPECTED_ERRORS: dict[str, tuple[str, str]] = {
    "error_400_bad_request.json": ("provider_error", "url must be an instagram link"),
    "error_402_out_of_credits.json": ("out_of_credits", "out of credits"),
    "error_missing_api_key.json": ("provider_error", "apiKey is required"),
}


def test_every_fixture_file_has_an_expectation() -> None:
    names = {p.name for p in FIXTURES.glob("*.json")}
    assert names, f"no fixtures found in {FIXTURES}"
    assert names == EXPECTED_POSTS.keys() | EXPECTED_ERRORS.keys()


@pytest.mark.parametrize("name", sorted(EXPECTED_POSTS))
def test_fixture_normalizes_to_exact_values(name: str) -> None:
    expected = EXPECTED_POSTS[name]
    body = load(name)
    assert detect_platform(body) == expected.platform
    assert looks_like_provider_body(body)
    assert normalize(body) == expected
    assert normalize(body, expected.platform) == expected


@pytest.mark.parametrize("name", sorted(EXPECTED_POSTS))
def test_posted_at_is_aware_utc_and_reach_is_none(name: str) -> None:
    post = normalize(load(name))
    assert post.posted_at is not None
    assert post.posted_at.utcoffset() == timedelta(0)
    assert post.reach is None


@pytest.mark.parametrize("name", ["instagram_post.json", "youtube_video.json"])
def test_platforms_without_shares_or_saves_leave_them_none(name: str) -> None:
    post = normalize(load(name))
    assert post.shares is None
    assert post.saves is None


def test_facebook_has_no_saves_but_has_shares() -> None:
    post = normalize(load("facebook_post.json"))
    assert post.saves is None
    assert post.shares == 211


def test_instagram_views_use_play_count_not_view_count() -> None:
    body = load("instagram_post.json")
    media = body["data"]["xdt_shortcode_media"]
    assert media["video_view_count"] != media["video_play_count"]
    assert normalize(body).views == 248907
    del media["video_play_count"]
    # Falling back to video_view_count would report a different, smaller number.
    assert normalize(body).views is None


@pytest.mark.parametrize("name", sorted(EXPECTED_ERRORS))
def test_error_fixtures_raise_the_right_code(name: str) -> None:
    code, fragment = EXPECTED_ERRORS[name]
    body = load(name)
    assert looks_like_provider_body(body)
    assert detect_platform(body) is None
    with pytest.raises(ProviderBodyError) as info:
        normalize(body)
    assert info.value.code == code
    assert fragment in str(info.value)


def test_error_fixture_fails_even_with_a_platform_hint() -> None:
    with pytest.raises(ProviderBodyError) as info:
        normalize(load("error_400_bad_request.json"), "instagram")
    assert info.value.code == "provider_error"


def test_success_false_beats_a_valid_looking_body() -> None:
    body = load("youtube_video.json")
    body["success"] = False
    body["message"] = "something broke"
    with pytest.raises(ProviderBodyError) as info:
        normalize(body)
    assert info.value.code == "provider_error"
    assert "something broke" in str(info.value)


def test_tiktok_nonzero_status_code_is_provider_error() -> None:
    body = load("tiktok_video.json")
    body["status_code"] = 10204
    body["status_msg"] = "Video currently unavailable"
    with pytest.raises(ProviderBodyError) as info:
        normalize(body)
    assert info.value.code == "provider_error"
    assert "Video currently unavailable" in str(info.value)


def test_instagram_status_not_ok_is_provider_error() -> None:
    body = load("instagram_post.json")
    body["status"] = "fail"
    with pytest.raises(ProviderBodyError) as info:
        normalize(body)
    assert info.value.code == "provider_error"


@pytest.mark.parametrize(
    "body",
    [
        {"success": False, "message": "Gotta purchase more credits"},
        {"success": False, "status": 402, "message": "Payment Required"},
        {"message": "You are OUT OF CREDITS"},
    ],
)
def test_out_of_credits_variants(body: dict[str, Any]) -> None:
    with pytest.raises(ProviderBodyError) as info:
        normalize(body)
    assert info.value.code == "out_of_credits"


def test_error_body_without_success_key() -> None:
    with pytest.raises(ProviderBodyError) as info:
        normalize({"error": "internal", "message": "upstream timeout"})
    assert info.value.code == "provider_error"


def test_tiktok_prefers_create_time_over_create_time_utc() -> None:
    body = load("tiktok_video.json")
    body["aweme_detail"]["create_time_utc"] = "2020-01-01T00:00:00.000Z"
    assert normalize(body).posted_at == datetime(2024, 11, 5, 13, 14, 15, tzinfo=UTC)
    del body["aweme_detail"]["create_time"]
    assert normalize(body).posted_at == datetime(2020, 1, 1, tzinfo=UTC)


def test_tiktok_thumbnail_falls_back_to_origin_cover() -> None:
    body = load("tiktok_video.json")
    del body["aweme_detail"]["video"]["cover"]
    assert normalize(body).thumb_url == (
        "https://p19-sign.tiktokcdn-us.com/tos-useast5-p-0068-tx/"
        "oZ9yX8wV7uT6sR5qP4oN3mL2kJ1iH0gF~tplv-tiktokx-360p.jpeg"
        "?x-expires=1731571200&s=AWEME_DETAIL&sc=feed_cover"
    )


def test_instagram_comments_fall_back_to_preview_count() -> None:
    body = load("instagram_post.json")
    media = body["data"]["xdt_shortcode_media"]
    del media["edge_media_to_parent_comment"]
    media["edge_media_preview_comment"]["count"] = 99
    assert normalize(body).comments == 99


def test_instagram_empty_caption_edges() -> None:
    body = load("instagram_post.json")
    body["data"]["xdt_shortcode_media"]["edge_media_to_caption"]["edges"] = []
    assert normalize(body).caption is None


def test_youtube_handle_loses_leading_at() -> None:
    body = load("youtube_video.json")
    body["channel"]["handle"] = "@mayastyles"
    assert normalize(body).author_handle == "mayastyles"


def test_facebook_thumbnail_falls_back_to_image_url() -> None:
    body = load("facebook_post.json")
    body["video"] = None
    body["image_url"] = "https://example.test/image.jpg"
    assert normalize(body).thumb_url == "https://example.test/image.jpg"


def test_numeric_string_counters_are_converted() -> None:
    body = load("facebook_post.json")
    body["view_count"] = "88400"
    assert normalize(body).views == 88400


def _del_path(body: dict[str, Any], path: str) -> None:
    *parents, last = path.split(".")
    node = body
    for step in parents:
        node = node[step]
    del node[last]


def _set_path(body: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split(".")
    node = body
    for step in parents:
        node = node[step]
    node[last] = value


COUNTER_PATHS: list[tuple[str, str, str]] = [
    ("tiktok_video.json", "aweme_detail.statistics.play_count", "views"),
    ("tiktok_video.json", "aweme_detail.statistics.collect_count", "saves"),
    ("instagram_post.json", "data.xdt_shortcode_media.edge_media_preview_like.count", "likes"),
    ("youtube_video.json", "commentCountInt", "comments"),
    ("facebook_post.json", "share_count", "shares"),
]


@pytest.mark.parametrize(("name", "path", "field"), COUNTER_PATHS)
def test_missing_or_null_counter_stays_none(name: str, path: str, field: str) -> None:
    body = load(name)
    _set_path(body, path, None)
    assert getattr(normalize(body), field) is None
    _del_path(body, path)
    assert getattr(normalize(body), field) is None


@pytest.mark.parametrize(("name", "path", "field"), COUNTER_PATHS)
@pytest.mark.parametrize(
    ("bad", "problem"),
    [("abc", "non-numeric"), (-5, "negative"), ("-5", "non-numeric"), (True, "non-numeric")],
)
def test_bad_counter_is_malformed(
    name: str, path: str, field: str, bad: object, problem: str
) -> None:
    body = load(name)
    _set_path(body, path, bad)
    with pytest.raises(ProviderBodyError) as info:
        normalize(body)
    assert info.value.code == "malformed_body"
    assert problem in str(info.value)
    assert path in str(info.value)


MISSING_IDS: list[tuple[str, str, Callable[[dict[str, Any]], None]]] = [
    (
        "tiktok_video.json",
        "tiktok body has no aweme_detail.aweme_id",
        lambda b: b["aweme_detail"].pop("aweme_id"),
    ),
    (
        "instagram_post.json",
        "instagram body has no data.xdt_shortcode_media.shortcode",
        lambda b: b["data"]["xdt_shortcode_media"].pop("shortcode"),
    ),
    ("youtube_video.json", "youtube body has no id", lambda b: b.pop("id")),
    ("facebook_post.json", "facebook body has no post_id", lambda b: b.pop("post_id")),
]


@pytest.mark.parametrize(("name", "message", "mutate"), MISSING_IDS)
def test_missing_id_is_malformed(
    name: str, message: str, mutate: Callable[[dict[str, Any]], None]
) -> None:
    body = load(name)
    platform = EXPECTED_POSTS[name].platform
    mutate(body)
    with pytest.raises(ProviderBodyError) as info:
        normalize(body, platform)
    assert info.value.code == "malformed_body"
    assert message in str(info.value)


def test_id_of_wrong_type_is_malformed() -> None:
    body = load("youtube_video.json")
    body["id"] = ["Kq7vX2mLp9A"]
    with pytest.raises(ProviderBodyError) as info:
        normalize(body)
    assert info.value.code == "malformed_body"
    assert "id" in str(info.value)


def test_instagram_media_missing_is_malformed() -> None:
    body = {"data": {"xdt_shortcode_media": None}, "status": "ok"}
    assert detect_platform(body) == "instagram"
    with pytest.raises(ProviderBodyError) as info:
        normalize(body)
    assert info.value.code == "malformed_body"
    assert "data.xdt_shortcode_media" in str(info.value)


def test_statistics_of_wrong_type_is_malformed() -> None:
    body = load("tiktok_video.json")
    body["aweme_detail"]["statistics"] = "n/a"
    with pytest.raises(ProviderBodyError) as info:
        normalize(body)
    assert info.value.code == "malformed_body"


def test_unreadable_timestamp_is_malformed() -> None:
    body = load("youtube_video.json")
    body["publishDate"] = "last Tuesday"
    with pytest.raises(ProviderBodyError) as info:
        normalize(body)
    assert info.value.code == "malformed_body"
    assert "publishDate" in str(info.value)


def test_empty_body_is_unrecognised_without_a_hint() -> None:
    assert detect_platform({}) is None
    assert not looks_like_provider_body({})
    with pytest.raises(ProviderBodyError) as info:
        normalize({})
    assert info.value.code == "unrecognised_body"


@pytest.mark.parametrize(
    ("platform", "message"),
    [
        ("tiktok", "tiktok body has no aweme_detail"),
        ("instagram", "instagram body has no data.xdt_shortcode_media"),
        ("youtube", "youtube body has no id"),
        ("facebook", "facebook body has no post_id"),
    ],
)
def test_empty_body_is_malformed_with_a_hint(platform: Any, message: str) -> None:
    with pytest.raises(ProviderBodyError) as info:
        normalize({}, platform)
    assert info.value.code == "malformed_body"
    assert message in str(info.value)


def test_hint_that_disagrees_with_the_body_is_malformed() -> None:
    with pytest.raises(ProviderBodyError) as info:
        normalize(load("tiktok_video.json"), "youtube")
    assert info.value.code == "malformed_body"
    assert "tiktok" in str(info.value)


def test_unknown_body_is_unrecognised() -> None:
    body = {"foo": 1, "bar": {"baz": 2}}
    assert not looks_like_provider_body(body)
    with pytest.raises(ProviderBodyError) as info:
        normalize(body)
    assert info.value.code == "unrecognised_body"
    assert "foo" in str(info.value)


def test_non_object_body_is_unrecognised() -> None:
    with pytest.raises(ProviderBodyError) as info:
        normalize([1, 2, 3])  # type: ignore[arg-type]
    assert info.value.code == "unrecognised_body"
    assert not looks_like_provider_body([])  # type: ignore[arg-type]


def test_normalize_does_not_mutate_its_input() -> None:
    body = load("instagram_post.json")
    before = copy.deepcopy(body)
    normalize(body)
    assert body == before


def test_provider_body_error_is_a_value_error() -> None:
    error = ProviderBodyError("malformed_body", "x")
    assert isinstance(error, ValueError)
    assert error.code == "malformed_body"
