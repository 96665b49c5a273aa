"""The fake's comment endpoints in-process: shapes ingest parses, paging, growth over time,
chosen moods, and failure rules that target comments apart from posts."""

from __future__ import annotations

from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from fake_scrapecreators.server import (
    COMMENT_PATHS,
    NEGATIVE_TEXTS,
    NEUTRAL_TEXTS,
    PAGE_SIZES,
    POSITIVE_TEXTS,
    create_app,
)
from pulse_ingest.comments import COMMENT_ENDPOINTS, CommentsPage, parse_comments_page
from pulse_ingest.sentiment import score

KEY = {"x-api-key": "test-key"}
START = 1_800_000_000.0
URLS = {
    "tiktok": "https://www.tiktok.com/@maya.styles/video/7433917265401856999",
    "instagram": "https://www.instagram.com/reel/DCabc_12-x/",
    "youtube": "https://www.youtube.com/watch?v=Ab3dE6gH9jK",
    "facebook": "https://www.facebook.com/reel/1187654321098111",
}
PATH_OF: dict[str, str] = {platform: path for path, platform in COMMENT_PATHS.items()}


@dataclass
class FakeClock:
    now: float = START

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def client(clock: FakeClock) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(clock=clock))
    async with httpx.AsyncClient(transport=transport, base_url="http://fake") as c:
        yield c


async def page(
    client: httpx.AsyncClient, platform: str, cursor: str | None = None, url: str | None = None
) -> httpx.Response:
    params = {"url": url or URLS[platform]}
    if cursor is not None:
        params[COMMENT_ENDPOINTS[platform].cursor_param] = cursor  # type: ignore[index]
    return await client.get(PATH_OF[platform], params=params, headers=KEY)


async def read_all(client: httpx.AsyncClient, platform: str) -> list[Any]:
    comments: list[Any] = []
    cursor: str | None = None
    for _ in range(100):
        r = await page(client, platform, cursor)
        assert r.status_code == 200, r.text
        parsed: CommentsPage = parse_comments_page(r.json(), platform)  # type: ignore[arg-type]
        comments.extend(parsed.comments)
        if parsed.next_cursor is None:
            return comments
        cursor = parsed.next_cursor
    raise AssertionError("paging never ended")


async def choose(client: httpx.AsyncClient, **body: Any) -> None:
    r = await client.post("/_control/comments", json=body)
    assert r.status_code == 200, r.text


def test_every_text_reads_as_its_mood() -> None:
    for texts, label in (
        (POSITIVE_TEXTS, "positive"),
        (NEUTRAL_TEXTS, "neutral"),
        (NEGATIVE_TEXTS, "negative"),
    ):
        for text in texts:
            assert score(text).label == label, text


@pytest.mark.parametrize("platform", list(URLS))
async def test_pages_parse_newest_first_with_stable_ids(
    client: httpx.AsyncClient, platform: str
) -> None:
    await choose(client, url=URLS[platform], count=45, mood="mixed", spacing_s=60)
    first = await page(client, platform)
    assert first.status_code == 200
    parsed = parse_comments_page(first.json(), platform)  # type: ignore[arg-type]
    assert len(parsed.comments) == PAGE_SIZES[platform]  # type: ignore[index]
    assert parsed.next_cursor is not None
    times = [c.commented_at for c in parsed.comments]
    assert all(t is not None for t in times)
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]
    for c in parsed.comments:
        assert c.text
        assert c.author_handle
        assert c.like_count is not None
        assert not c.author_handle.startswith("@")

    everything = await read_all(client, platform)
    assert len(everything) == 45
    assert len({c.comment_id for c in everything}) == 45
    again = await read_all(client, platform)
    assert [c.comment_id for c in again] == [c.comment_id for c in everything]


async def test_comments_appear_over_time_and_keep_their_ids(
    client: httpx.AsyncClient, clock: FakeClock
) -> None:
    # Live for an hour; 100 comments half an hour apart.
    curve = {"url": URLS["tiktok"], "posted_at": clock.now - 3600, "total": 1000, "tau_h": 5}
    assert (await client.post("/_control/curves", json=curve)).status_code == 200
    await choose(client, url=URLS["tiktok"], count=100, spacing_s=1800)
    before = {c.comment_id for c in await read_all(client, "tiktok")}
    assert len(before) == 2
    clock.now += 24 * 3600
    after = {c.comment_id for c in await read_all(client, "tiktok")}
    assert before < after
    assert len(after) == 50
    clock.now += 30 * 24 * 3600
    assert len(await read_all(client, "tiktok")) == 100


async def test_a_negative_post_reads_mostly_negative(client: httpx.AsyncClient) -> None:
    await choose(client, url=URLS["youtube"], count=60, mood="negative")
    labels = Counter(score(c.text).label for c in await read_all(client, "youtube"))
    assert sum(labels.values()) == 60
    assert labels["negative"] / 60 >= 0.55

    await choose(client, url=URLS["youtube"], count=60, mood="mixed")
    labels = Counter(score(c.text).label for c in await read_all(client, "youtube"))
    assert labels["negative"] / 60 < 0.3
    assert labels["positive"] > labels["negative"]


async def test_default_comment_sets_differ_per_post(client: httpx.AsyncClient) -> None:
    counts = set()
    for n in range(8):
        url = f"https://www.tiktok.com/@a/video/74000000000000000{n:02d}"
        r = await page(client, "tiktok", url=url)
        counts.add(r.json()["total"])
        assert r.json()["total"] <= 60
    assert len(counts) > 1


async def test_comment_rules_and_calls_are_kept_apart_from_posts(
    client: httpx.AsyncClient,
) -> None:
    r = await client.post(
        "/_control/behaviour",
        json={"platform": "instagram", "endpoint": "comments", "mode": "500", "times": 1},
    )
    assert r.status_code == 200
    post = await client.get("/v1/instagram/post", params={"url": URLS["instagram"]}, headers=KEY)
    assert post.status_code == 200  # the rule is for comments only
    assert (await page(client, "instagram")).status_code == 500
    assert (await page(client, "instagram")).status_code == 200

    # A post rule leaves comments alone.
    await client.post("/_control/behaviour", json={"platform": "instagram", "mode": "malformed"})
    assert "comments" in (await page(client, "instagram")).json()

    calls = (await client.get("/_control/calls")).json()
    comment_calls = (await client.get("/_control/comment-calls")).json()
    assert [c["path"] for c in calls] == ["/v1/instagram/post"]
    assert [c["status"] for c in comment_calls] == [500, 200, 200]
    assert {c["path"] for c in comment_calls} == {"/v2/instagram/post/comments"}


async def test_comment_calls_cost_credits_and_fail_like_posts(client: httpx.AsyncClient) -> None:
    before = (await client.get("/_control/stats")).json()["credits"]
    await page(client, "facebook")
    assert (await client.get("/_control/stats")).json()["credits"] == before - 1

    await client.post("/_control/credits", json={"credits": 0})
    r = await page(client, "facebook")
    assert r.status_code == 402

    await client.post("/_control/credits", json={"credits": 10})
    await client.post(
        "/_control/behaviour",
        json={"platform": "tiktok", "endpoint": "comments", "mode": "malformed", "times": 1},
    )
    assert "comments" not in (await page(client, "tiktok")).json()
    await client.post("/_control/deleted", json={"url": URLS["tiktok"]})
    assert (await page(client, "tiktok")).status_code == 404
    assert (await page(client, "youtube", cursor="nonsense")).status_code == 400
