"""The ScrapeCreators client's comments calls: against the fake provider as a real process, and
through httpx.MockTransport for answers the fake does not give (a page failing mid-way, odd
bodies)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from pulse_contracts.values import Platform
from pulse_ingest.comments import parse_comments_page
from pulse_ingest.provider import ProviderConfig, ScrapeCreatorsClient
from pulse_ingest.provider_bodies import ProviderBodyError
from services.ingest.tests.test_provider_client import (
    POSTS,
    Fake,
    ManualClock,
    RecordingSleep,
    config,
)
from tests.support.services import fake_provider_process


@pytest.fixture(scope="module")
def fake_process(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fake]:
    with fake_provider_process(tmp_path_factory.mktemp("fake-scrapecreators")) as (url, control):
        yield Fake(url=url, control=control)


@pytest.fixture
def fake(fake_process: Fake) -> Fake:
    fake_process.control.post("/_control/reset").raise_for_status()
    return fake_process


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient() as client:
        yield client


def choose(fake: Fake, platform: Platform, count: int, mood: str = "mixed") -> str:
    url = POSTS[platform][0]
    fake.control.post(
        "/_control/comments", json={"url": url, "count": count, "mood": mood, "spacing_s": 1}
    ).raise_for_status()
    return url


def comment_calls(fake: Fake) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = fake.control.get("/_control/comment-calls").json()
    return calls


# --- against the fake ------------------------------------------------------------------------


@pytest.mark.parametrize("platform", ["tiktok", "instagram", "youtube", "facebook"])
async def test_reads_every_page_up_to_the_bound(
    fake: Fake, http: httpx.AsyncClient, platform: Platform
) -> None:
    url = choose(fake, platform, 25)
    client = ScrapeCreatorsClient(config(fake), http)
    before = fake.credits()

    result = await client.fetch_comments(platform, url, limit=50, max_pages=5)

    assert result.run.status == "ok"
    assert result.run.error_code is None
    assert len(result.comments) == 25
    assert len({c.comment_id for c in result.comments}) == 25
    calls = comment_calls(fake)
    assert result.pages == len(calls) == result.run.credits == result.run.attempts
    assert fake.credits() == before - result.pages
    assert all(c["url"] == url for c in calls)
    if platform == "youtube":
        assert all(c["params"].get("order") == "newest" for c in calls)
    times = [c.commented_at for c in result.comments]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]


async def test_the_bound_cuts_comments_and_pages(fake: Fake, http: httpx.AsyncClient) -> None:
    url = choose(fake, "tiktok", 100)
    client = ScrapeCreatorsClient(config(fake), http)

    ten = await client.fetch_comments("tiktok", url, limit=10, max_pages=5)
    assert (len(ten.comments), ten.pages, ten.run.credits) == (10, 1, 1)

    # 45 wanted, but at most 2 pages of 20.
    two_pages = await client.fetch_comments("tiktok", url, limit=45, max_pages=2)
    assert (len(two_pages.comments), two_pages.pages) == (40, 2)
    assert [c.comment_id for c in two_pages.comments[:10]] == [c.comment_id for c in ten.comments]


async def test_no_comments_is_an_ok_empty_fetch(fake: Fake, http: httpx.AsyncClient) -> None:
    url = choose(fake, "facebook", 0)
    client = ScrapeCreatorsClient(config(fake), http)
    result = await client.fetch_comments("facebook", url, limit=50, max_pages=3)
    assert (result.run.status, result.comments, result.pages) == ("ok", [], 1)


async def test_comments_retry_like_posts(fake: Fake, http: httpx.AsyncClient) -> None:
    url = choose(fake, "instagram", 5)
    sleep = RecordingSleep()
    client = ScrapeCreatorsClient(config(fake), http, sleep=sleep)
    fake.behave(platform="instagram", endpoint="comments", mode="429", times=2)
    result = await client.fetch_comments("instagram", url, limit=50, max_pages=3)
    assert (result.run.status, result.run.attempts, result.run.http_status) == ("ok", 3, 200)
    assert len(result.comments) == 5
    assert len(sleep.delays) == 2

    fake.behave(platform="instagram", endpoint="comments", mode="500", times=10)
    result = await client.fetch_comments("instagram", url, limit=50, max_pages=3)
    assert (result.run.status, result.run.error_code) == ("failed", "server_error")
    assert (result.run.attempts, result.run.credits, result.pages) == (4, 0, 0)
    assert result.comments == []


async def test_out_of_credits_and_deleted_are_not_retried(
    fake: Fake, http: httpx.AsyncClient
) -> None:
    url = choose(fake, "youtube", 5)
    client = ScrapeCreatorsClient(config(fake), http)
    fake.control.post("/_control/credits", json={"credits": 0}).raise_for_status()
    result = await client.fetch_comments("youtube", url, limit=50, max_pages=3)
    assert (result.run.status, result.run.error_code, result.run.attempts) == (
        "failed",
        "out_of_credits",
        1,
    )
    fake.control.post("/_control/credits", json={"credits": 100}).raise_for_status()
    fake.control.post("/_control/deleted", json={"url": url}).raise_for_status()
    result = await client.fetch_comments("youtube", url, limit=50, max_pages=3)
    assert (result.run.error_code, result.run.attempts) == ("not_found", 1)


async def test_comments_have_their_own_breaker(fake: Fake, http: httpx.AsyncClient) -> None:
    url = choose(fake, "tiktok", 5)
    clock = ManualClock()
    cfg = config(fake, max_attempts=1, breaker_failures=2, breaker_reset_s=60)
    client = ScrapeCreatorsClient(cfg, http, clock=clock)
    fake.behave(platform="tiktok", endpoint="comments", mode="500", times=100)
    for _ in range(2):
        failed = await client.fetch_comments("tiktok", url, limit=50, max_pages=3)
        assert failed.run.status == "failed"
    calls = len(comment_calls(fake))

    skipped = await client.fetch_comments("tiktok", url, limit=50, max_pages=3)
    assert (skipped.run.status, skipped.run.error_code, skipped.run.attempts) == (
        "skipped",
        "circuit_open",
        0,
    )
    assert "comments of tiktok" in (skipped.run.error or "")
    assert len(comment_calls(fake)) == calls, "no call while the comments circuit is open"
    # The metrics endpoint of the platform is not affected.
    assert client.breaker_state("tiktok") == "closed"
    assert (await client.fetch_post("tiktok", url)).run.status == "ok"

    # After the reset time one trial goes through; its success closes the circuit.
    fake.behave(platform="tiktok", endpoint="comments", mode="ok")
    clock.now += 61
    assert (await client.fetch_comments("tiktok", url, limit=50, max_pages=3)).run.status == "ok"
    assert (await client.fetch_comments("tiktok", url, limit=50, max_pages=3)).run.status == "ok"


async def test_a_platform_without_comments_endpoint_fails_without_a_call(
    fake: Fake, http: httpx.AsyncClient
) -> None:
    client = ScrapeCreatorsClient(config(fake), http)
    result = await client.fetch_comments("other", "https://example.com/x", limit=5, max_pages=1)
    assert (result.run.status, result.run.error_code) == ("failed", "unsupported_platform")
    assert comment_calls(fake) == []


# --- answers the fake does not give -----------------------------------------------------------


MockClient = Callable[[Callable[[httpx.Request], httpx.Response]], ScrapeCreatorsClient]


@pytest.fixture
async def mock_client() -> AsyncIterator[MockClient]:
    opened: list[httpx.AsyncClient] = []

    def make(handler: Callable[[httpx.Request], httpx.Response]) -> ScrapeCreatorsClient:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        opened.append(http)
        cfg = ProviderConfig(
            base_url="http://provider",
            api_key="k",
            max_attempts=2,
            backoff_base_s=0,
            backoff_max_s=0,
        )
        return ScrapeCreatorsClient(cfg, http, sleep=RecordingSleep())

    yield make
    for http in opened:
        await http.aclose()


def tiktok_page(first: int, n: int, *, more: bool) -> dict[str, Any]:
    return {
        "status_code": 0,
        "comments": [
            {"cid": str(i), "text": f"comment {i}", "create_time": 1_700_000_000 + i}
            for i in range(first, first + n)
        ],
        "cursor": first + n,
        "has_more": 1 if more else 0,
    }


async def test_a_page_failing_mid_way_keeps_the_comments_already_read(
    mock_client: MockClient,
) -> None:
    seen: list[dict[str, str]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(dict(request.url.params))
        if "cursor" not in request.url.params:
            return httpx.Response(200, json=tiktok_page(0, 20, more=True))
        return httpx.Response(503, json={"success": False, "message": "upstream"})

    client = mock_client(handler)
    result = await client.fetch_comments(
        "tiktok", "https://www.tiktok.com/@a/video/1", limit=50, max_pages=3
    )
    assert result.run.status == "ok"
    assert result.run.error_code == "server_error"
    assert "after 1 page" in (result.run.error or "")
    assert (len(result.comments), result.pages, result.run.attempts) == (20, 1, 3)
    assert [s.get("cursor") for s in seen] == [None, "20", "20"]


async def test_a_cursor_that_does_not_move_ends_the_fetch(mock_client: MockClient) -> None:
    calls = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        body = tiktok_page(calls * 10, 10, more=True)
        body["cursor"] = 10  # the provider repeats itself
        return httpx.Response(200, json=body)

    client = mock_client(handler)
    result = await client.fetch_comments(
        "tiktok", "https://www.tiktok.com/@a/video/1", limit=100, max_pages=10
    )
    assert calls == 2
    assert result.pages == 2


async def test_a_body_without_comments_is_a_failed_fetch(mock_client: MockClient) -> None:
    client = mock_client(lambda _: httpx.Response(200, json={"success": True, "data": {}}))
    result = await client.fetch_comments(
        "facebook", "https://www.facebook.com/reel/1", limit=5, max_pages=1
    )
    assert (result.run.status, result.run.error_code) == ("failed", "unrecognised_body")
    client = mock_client(lambda _: httpx.Response(200, text="<html>"))
    result = await client.fetch_comments(
        "facebook", "https://www.facebook.com/reel/1", limit=5, max_pages=1
    )
    assert (result.run.status, result.run.error_code) == ("failed", "malformed_body")


# --- parsing (pure) ---------------------------------------------------------------------------


def test_parsing_is_tolerant_of_odd_items() -> None:
    page = parse_comments_page(
        {
            "comments": [
                {
                    "id": "a",
                    "content": "top",
                    "replyLevel": 0,
                    "author": {"name": "@Someone"},
                    "engagement": {"likes": 3},
                    "publishedTime": "2025-01-23T23:14:02.948Z",
                },
                {"id": "b", "content": "a reply", "replyLevel": 1},
                {"id": "a", "content": "duplicate"},
                {"content": "no id"},
                {"id": "c"},
                "not an object",
                {
                    "cid": 7,
                    "text": "",
                    "create_time": 1_737_673_242_000,
                    "user": {"unique_id": "x"},
                },
            ],
            "continuationToken": "next",
        },
        "youtube",
    )
    assert [c.comment_id for c in page.comments] == ["a", "7"]
    first, second = page.comments
    assert (first.author_handle, first.like_count) == ("Someone", 3)
    assert first.commented_at is not None
    assert first.commented_at.isoformat().startswith("2025-01-23T23:14:02")
    assert second.text == ""  # empty text is kept and scored neutral
    assert second.commented_at is not None
    assert second.commented_at.year == 2025  # milliseconds read as such
    assert page.next_cursor == "next"


@pytest.mark.parametrize(
    ("body", "cursor"),
    [
        ({"comments": None, "cursor": 0, "has_more": 0}, None),
        ({"comments": [], "cursor": 40, "has_more": 1}, "40"),
        ({"success": True, "comments": [], "cursor": "abc", "has_next_page": False}, None),
        ({"success": True, "comments": [], "cursor": None}, None),
        ({"success": True, "comments": [], "cursor": "MTox"}, "MTox"),
    ],
)
def test_next_cursor(body: dict[str, Any], cursor: str | None) -> None:
    assert parse_comments_page(body, "tiktok").next_cursor == cursor


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"success": False, "message": "Could not fetch comments"}, "provider_error"),
        ({"success": False, "message": "Gotta purchase more credits"}, "out_of_credits"),
        ({"status_code": 10201, "status_msg": "no such video"}, "provider_error"),
        ({"success": True}, "unrecognised_body"),
        ({"success": True, "comments": {"a": 1}}, "malformed_body"),
    ],
)
def test_failure_bodies(body: dict[str, Any], code: str) -> None:
    with pytest.raises(ProviderBodyError) as caught:
        parse_comments_page(body, "instagram")
    assert caught.value.code == code
