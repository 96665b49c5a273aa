"""The fake ScrapeCreators server in-process (httpx.ASGITransport) with a fake clock."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from fake_scrapecreators.server import PLATFORMS, counters_at, create_app, post_id_from_url
from pulse_ingest.normalizer import NormalizedPost, ProviderBodyError, normalize

KEY = {"x-api-key": "test-key"}
START = 1_800_000_000.0

# (platform, path, url, expected platform post id)
POSTS = [
    (
        "tiktok",
        "/v2/tiktok/video",
        "https://www.tiktok.com/@maya.styles/video/7433917265401856999?_r=1&u_code=x",
        "7433917265401856999",
    ),
    ("instagram", "/v1/instagram/post", "https://www.instagram.com/reel/DCabc_12-x/", "DCabc_12-x"),
    ("youtube", "/v1/youtube/video", "https://www.youtube.com/watch?v=Ab3dE6gH9jK", "Ab3dE6gH9jK"),
    (
        "facebook",
        "/v1/facebook/post",
        "https://www.facebook.com/reel/1187654321098111",
        "1187654321098111",
    ),
]
PATH_OF = {platform: path for platform, path, _, _ in POSTS}
URL_OF = {platform: url for platform, _, url, _ in POSTS}


@dataclass
class FakeClock:
    now: float = START

    def __call__(self) -> float:
        return self.now

    def advance_hours(self, hours: float) -> None:
        self.now += hours * 3600


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(clock=clock))
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as c:
        yield c


async def get_post(
    client: httpx.AsyncClient, platform: str, url: str | None = None
) -> httpx.Response:
    return await client.get(PATH_OF[platform], params={"url": url or URL_OF[platform]}, headers=KEY)


async def behave(client: httpx.AsyncClient, **body: Any) -> None:
    r = await client.post("/_control/behaviour", json=body)
    assert r.status_code == 200, r.text


def norm(r: httpx.Response, platform: str) -> NormalizedPost:
    assert r.status_code == 200, r.text
    return normalize(r.json(), platform)  # type: ignore[arg-type]


# --- bodies ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("platform", "path", "url", "post_id"), POSTS)
async def test_body_normalizes_to_the_requested_post(
    client: httpx.AsyncClient, clock: FakeClock, platform: str, path: str, url: str, post_id: str
) -> None:
    r = await client.get(path, params={"url": url}, headers=KEY)
    post = norm(r, platform)
    assert post.platform == platform
    assert post.platform_post_id == post_id
    assert post.posted_at is not None
    age_h = (datetime.fromtimestamp(clock.now, tz=UTC) - post.posted_at).total_seconds() / 3600
    assert 0.1 <= age_h <= 73
    assert post.views is not None
    assert post.views > 0
    assert post.likes is not None
    assert post.comments is not None


@pytest.mark.parametrize(
    ("platform", "url", "expected"),
    [
        ("tiktok", "https://www.tiktok.com/@a.b/video/7400000000000000001", "7400000000000000001"),
        ("tiktok", "https://m.tiktok.com/v/7400000000000000002.html", None),
        ("instagram", "https://www.instagram.com/p/CxYz123/?igsh=abc", "CxYz123"),
        ("instagram", "https://instagram.com/someone/reel/CxYz124/", "CxYz124"),
        ("youtube", "https://youtu.be/Ab3dE6gH9jK?t=3", "Ab3dE6gH9jK"),
        ("youtube", "https://www.youtube.com/shorts/Zr3nB8cT1wE", "Zr3nB8cT1wE"),
        ("youtube", "https://m.youtube.com/watch?feature=x&v=Kq7vX2mLp9A", "Kq7vX2mLp9A"),
        ("facebook", "https://www.facebook.com/watch/?v=123456789012", "123456789012"),
        ("facebook", "https://www.facebook.com/maya/videos/223456789012/", "223456789012"),
        ("facebook", "https://www.facebook.com/permalink.php?story_fbid=3234567&id=9", "3234567"),
    ],
)
def test_ids_come_from_the_url(platform: Any, url: str, expected: str | None) -> None:
    if expected is None:
        with pytest.raises(ValueError, match="could not find"):
            post_id_from_url(platform, url)
    else:
        assert post_id_from_url(platform, url) == expected


async def test_facebook_post_id_equals_the_url_id(client: httpx.AsyncClient) -> None:
    body = (await get_post(client, "facebook")).json()
    assert body["post_id"] == "1187654321098111"
    assert body["url"].endswith("/1187654321098111")


async def test_same_post_via_another_url_form_has_the_same_numbers(
    client: httpx.AsyncClient,
) -> None:
    a = norm(await get_post(client, "youtube", "https://youtu.be/Ab3dE6gH9jK"), "youtube")
    b = norm(await get_post(client, "youtube"), "youtube")
    assert (a.views, a.likes, a.posted_at) == (b.views, b.likes, b.posted_at)


async def test_wrong_platform_url_is_a_400_bad_request(client: httpx.AsyncClient) -> None:
    r = await get_post(client, "tiktok", "https://www.instagram.com/reel/DCabc/")
    assert r.status_code == 400
    assert r.json()["success"] is False
    assert r.json()["error"] == "bad_request"
    r = await client.get(PATH_OF["tiktok"], headers=KEY)
    assert r.status_code == 400


# --- growth ---------------------------------------------------------------------------------


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_counters_grow_and_never_decrease(
    client: httpx.AsyncClient, clock: FakeClock, platform: str
) -> None:
    seen: list[NormalizedPost] = []
    for step in [0, 0.25, 1, 1, 3, 6, 24, 24 * 7, 24 * 60]:
        clock.advance_hours(step)
        seen.append(norm(await get_post(client, platform), platform))
    for field in ("views", "likes", "comments", "shares", "saves"):
        values = [getattr(p, field) for p in seen]
        if values[0] is None:  # not exposed on this platform
            assert all(v is None for v in values)
            continue
        assert values == sorted(values), (field, values)
    assert seen[-1].views is not None
    assert seen[0].views is not None
    assert seen[-1].views > seen[0].views
    assert len({p.posted_at for p in seen}) == 1  # the posted moment does not move


def test_growth_function_is_monotonic_for_many_posts() -> None:
    hours = [0, 0.01, 0.5, 1, 2, 5, 12, 24, 48, 96, 500, 5000]
    for n in range(200):
        series = [counters_at(f"tiktok:{n}", h) for h in hours]
        for a, b in itertools.pairwise(series):
            assert b.views >= a.views
            assert b.likes >= a.likes
            assert b.comments >= a.comments
            assert b.shares >= a.shares
            assert b.saves >= a.saves
            assert b.views_alt >= a.views_alt


async def test_control_advance_moves_the_server_clock(client: httpx.AsyncClient) -> None:
    before = norm(await get_post(client, "tiktok"), "tiktok")
    await client.post("/_control/advance", json={"seconds": 6 * 3600})
    after = norm(await get_post(client, "tiktok"), "tiktok")
    assert before.views is not None
    assert after.views is not None
    assert after.views > before.views


# --- auth and credits ------------------------------------------------------------------------


async def test_missing_key_is_401_with_the_missing_key_body(client: httpx.AsyncClient) -> None:
    r = await client.get(PATH_OF["tiktok"], params={"url": URL_OF["tiktok"]})
    assert r.status_code == 401
    assert r.json() == {"success": False, "message": "apiKey is required"}
    r = await client.get("/v1/account/credit-balance")
    assert r.status_code == 401


async def test_credits_decrease_per_post_call_and_402_at_zero(client: httpx.AsyncClient) -> None:
    async def balance() -> int:
        r = await client.get("/v1/account/credit-balance", headers=KEY)
        assert r.status_code == 200
        value = r.json()["creditCount"]
        assert isinstance(value, int)
        return value

    assert await balance() == 100_000
    for platform in PLATFORMS:
        assert (await get_post(client, platform)).status_code == 200
    assert await balance() == 100_000 - 4
    yt = (await get_post(client, "youtube")).json()
    assert yt["credits_remaining"] == 100_000 - 5

    await client.post("/_control/credits", json={"credits": 1})
    assert (await get_post(client, "tiktok")).status_code == 200
    r = await get_post(client, "tiktok")
    assert r.status_code == 402
    assert "out of credits" in r.json()["message"]
    with pytest.raises(ProviderBodyError) as err:
        normalize(r.json(), "tiktok")
    assert err.value.code == "out_of_credits"
    assert await balance() == 0


# --- control modes ----------------------------------------------------------------------------


async def test_429_for_n_times_then_ok(client: httpx.AsyncClient) -> None:
    await behave(client, platform="tiktok", mode="429", times=2, retry_after_s=1.5)
    first = await get_post(client, "tiktok")
    assert first.status_code == 429
    assert first.headers["retry-after"] == "1.5"
    assert (await get_post(client, "instagram")).status_code == 200  # other platform unaffected
    assert (await get_post(client, "tiktok")).status_code == 429
    assert (await get_post(client, "tiktok")).status_code == 200


async def test_500_until_changed_then_ok(client: httpx.AsyncClient) -> None:
    await behave(client, platform=None, mode="500")
    for platform in PLATFORMS:
        assert (await get_post(client, platform)).status_code == 500
    await behave(client, platform=None, mode="ok")
    assert (await get_post(client, "youtube")).status_code == 200


async def test_platform_rule_wins_over_global_rule(client: httpx.AsyncClient) -> None:
    await behave(client, platform=None, mode="500")
    await behave(client, platform="facebook", mode="429")
    assert (await get_post(client, "facebook")).status_code == 429
    assert (await get_post(client, "tiktok")).status_code == 500


async def test_402_mode(client: httpx.AsyncClient) -> None:
    await behave(client, platform="instagram", mode="402", times=1)
    assert (await get_post(client, "instagram")).status_code == 402
    assert (await get_post(client, "instagram")).status_code == 200


@pytest.mark.parametrize("platform", PLATFORMS)
async def test_malformed_is_a_200_the_normalizer_rejects(
    client: httpx.AsyncClient, platform: str
) -> None:
    await behave(client, platform=platform, mode="malformed", times=1)
    r = await get_post(client, platform)
    assert r.status_code == 200
    with pytest.raises(ProviderBodyError) as err:
        normalize(r.json(), platform)  # type: ignore[arg-type]
    assert err.value.code == "malformed_body"


async def test_success_false_is_a_200_provider_error(client: httpx.AsyncClient) -> None:
    await behave(client, platform="youtube", mode="success_false")
    r = await get_post(client, "youtube")
    assert r.status_code == 200
    assert r.json()["success"] is False
    assert r.json()["message"]
    with pytest.raises(ProviderBodyError) as err:
        normalize(r.json(), "youtube")
    assert err.value.code == "provider_error"


async def test_slow_mode_delays_then_answers(client: httpx.AsyncClient) -> None:
    await behave(client, platform="tiktok", mode="slow", delay_ms=50, times=1)
    started = datetime.now(UTC)
    r = await get_post(client, "tiktok")
    assert r.status_code == 200
    assert (datetime.now(UTC) - started).total_seconds() >= 0.05


async def test_deleted_post_answers_with_a_provider_error(client: httpx.AsyncClient) -> None:
    r = await client.post("/_control/deleted", json={"url": URL_OF["instagram"]})
    assert r.json()["platform"] == "instagram"
    r = await get_post(client, "instagram")
    assert r.status_code == 404
    with pytest.raises(ProviderBodyError) as err:
        normalize(r.json(), "instagram")
    assert err.value.code == "provider_error"
    assert (await get_post(client, "instagram", "https://www.instagram.com/p/Other1/")).is_success


async def test_calls_log_stats_and_reset(client: httpx.AsyncClient, clock: FakeClock) -> None:
    await get_post(client, "tiktok")
    await client.get(PATH_OF["youtube"], params={"url": URL_OF["youtube"]})
    calls = (await client.get("/_control/calls")).json()
    assert calls == [
        {
            "path": "/v2/tiktok/video",
            "url": URL_OF["tiktok"],
            "api_key": "test-key",
            "at": clock.now,
            "status": 200,
        },
        {
            "path": "/v1/youtube/video",
            "url": URL_OF["youtube"],
            "api_key": None,
            "at": clock.now,
            "status": 401,
        },
    ]
    stats = (await client.get("/_control/stats")).json()
    assert stats["max_in_flight"]["tiktok"] == 1
    assert stats["in_flight"]["tiktok"] == 0
    await behave(client, mode="500")
    await client.post("/_control/credits", json={"credits": 3})
    await client.post("/_control/reset")
    assert (await client.get("/_control/calls")).json() == []
    assert (await get_post(client, "tiktok")).status_code == 200
    assert (await client.get("/_control/stats")).json()["credits"] == 100_000 - 1
