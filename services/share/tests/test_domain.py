"""share's pure rules: links, unlock cookies, rate buckets, the projection and the page."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import re
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    DailyPoint,
    LatestCounters,
    PlatformSplit,
    PostNumbers,
    timeline_pct,
)
from pulse_report.chart import growth_chart, nice_ceiling
from pulse_report.formats import on_color
from pulse_runtime.errors import install_error_handlers
from pulse_runtime.passwords import hash_password
from pulse_share.domain import (
    BookingRef,
    CampaignRef,
    ClientRef,
    InfluencerRef,
    ShareRefs,
    build_payload,
    redact,
    redact_numbers,
)
from pulse_share.forward import JsonAtMoment, as_of_now, at_moment, forward_to_day
from pulse_share.links import (
    expiry_problem,
    link_state,
    new_token,
    sign_unlock,
    token_digest,
    truncated_address,
    unlock_expiry,
    unlock_key,
    unlocked,
)
from pulse_share.media import cdn_url, https_url
from pulse_share.public import SECURITY_HEADERS, SecurityHeaders
from pulse_share.ratelimit import Rate, TokenBuckets, retry_after
from pulse_share.render import API_CSP, media_src, not_found_page, share_page

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
CAMPAIGN, CLIENT = UUID(int=0x100), UUID(int=0xC)
MAYA, LEO = UUID(int=0x301), UUID(int=0x302)
B1, B2, B3 = UUID(int=0x401), UUID(int=0x402), UUID(int=0x403)


# --- links ------------------------------------------------------------------------------------


def test_a_token_is_32_random_bytes_url_safe_and_only_its_sha256_is_kept() -> None:
    token, digest = new_token()
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert digest == hashlib.sha256(token.encode()).digest() == token_digest(token)
    assert new_token()[0] != token


def test_link_states() -> None:
    assert link_state(expires_at=None, revoked_at=None, now=NOW) == "active"
    assert link_state(expires_at=NOW + timedelta(seconds=1), revoked_at=None, now=NOW) == "active"
    assert link_state(expires_at=NOW, revoked_at=None, now=NOW) == "expired"
    assert link_state(expires_at=None, revoked_at=NOW, now=NOW) == "revoked"
    assert link_state(expires_at=NOW - timedelta(days=1), revoked_at=NOW, now=NOW) == "revoked"


def test_expiry_must_be_aware_and_in_the_future() -> None:
    assert expiry_problem(None, NOW) is None
    assert expiry_problem(NOW + timedelta(hours=1), NOW) is None
    assert expiry_problem(NOW, NOW) == "expires_at must be in the future"
    assert "timezone" in (expiry_problem(datetime(2030, 1, 1), NOW) or "")
    assert "5 years" in (expiry_problem(datetime.max.replace(tzinfo=UTC), NOW) or "")


def test_an_unlock_cookie_opens_its_link_only_until_it_expires() -> None:
    key = unlock_key("service secret")
    link, other = UUID(int=1), UUID(int=2)
    pw = hash_password("open sesame")
    cookie = sign_unlock(key, link, pw, NOW + timedelta(hours=1))
    assert unlocked(key, cookie, link, pw, NOW)
    assert not unlocked(key, cookie, other, pw, NOW)  # another link
    assert not unlocked(key, cookie, link, hash_password("open sesame"), NOW)  # password reset
    assert not unlocked(key, cookie, link, pw, NOW + timedelta(hours=1))  # expired
    assert not unlocked(unlock_key("another secret"), cookie, link, pw, NOW)
    stamp, _, mac = cookie.partition(".")
    assert not unlocked(key, f"{int(stamp) + 3600}.{mac}", link, pw, NOW)  # extended by hand
    assert not unlocked(key, None, link, pw, NOW)
    assert not unlocked(key, "garbage", link, pw, NOW)


def test_an_unlock_never_outlives_the_link() -> None:
    assert unlock_expiry(NOW, timedelta(hours=1), None) == NOW + timedelta(hours=1)
    soon = NOW + timedelta(minutes=5)
    assert unlock_expiry(NOW, timedelta(hours=1), soon) == soon


def test_the_access_log_keeps_networks_not_addresses() -> None:
    assert truncated_address("203.0.113.77") == "203.0.113.0/24"
    assert truncated_address("2001:db8:abcd:12::1") == "2001:db8:abcd::/48"
    assert truncated_address(None) == "unknown"
    assert truncated_address("testclient") == "unknown"


def test_only_https_urls_and_platform_cdn_thumbnails_are_shown() -> None:
    assert https_url("https://brand.example/logo.png") == "https://brand.example/logo.png"
    for bad in ("javascript:alert(1)", "http://x.example/a.png", "//x.example/a", "data:x", ""):
        assert https_url(bad) is None
    assert cdn_url("https://p16-sign.tiktokcdn-us.com/a.jpeg") is not None
    assert cdn_url("https://scontent.cdninstagram.com/v/a.jpg") is not None
    assert cdn_url("https://i.ytimg.com/vi/x/hq.jpg") is not None
    assert cdn_url("https://tiktokcdn.com.evil.example/a.jpeg") is None
    assert cdn_url("https://eviltiktokcdn.com/a.jpeg") is None
    assert cdn_url("http://p16.tiktokcdn.com/a.jpeg") is None


# --- rate buckets -----------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def test_a_bucket_admits_its_burst_then_refills_at_its_rate() -> None:
    clock = Clock()
    buckets = TokenBuckets(Rate(burst=3, per_second=0.5), clock=clock)
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(2.0)
    assert buckets.take("b") == 0.0  # keys are independent
    clock.t += 2.0
    assert buckets.take("a") == 0.0
    assert buckets.take("a") > 0
    assert retry_after(0.2) == "1"
    assert retry_after(2.01) == "3"


def test_buckets_hold_bounded_memory() -> None:
    clock = Clock()
    buckets = TokenBuckets(Rate(burst=1, per_second=0.001), max_keys=10, clock=clock)
    for i in range(100):
        buckets.take(i)
    assert len(buckets._buckets) == 10
    assert buckets.take(99) > 0  # the most recent keys are the ones kept


# --- the projection ---------------------------------------------------------------------------


def _doc(as_of: datetime = NOW) -> CampaignNumbers:
    latest = LatestCounters(
        views=120_000, likes=9_000, comments=300, shares=None, saves=None, reach=None,
        observed_at=as_of, engagement=9_300, estimated=True,
    )  # fmt: skip
    return CampaignNumbers(
        campaign=CampaignFigures(
            campaign_id=CAMPAIGN,
            client_id=CLIENT,
            name="Glow Serum Launch",
            status="live",
            start_date=date(2026, 11, 11),
            end_date=date(2026, 11, 25),
            currency="EUR",
            budget_cents=600_000_00,
            spend_cents=420_000_00,
            committed_views=1_000_000,
            committed_engagement=50_000,
            committed_posts=6,
            actual_views=450_000,
            actual_engagement=31_000,
            actual_posts=4,
            views_pct=45.0,
            engagement_pct=62.0,
            posts_pct=66.67,
            kpi_pct=45.0,
            engagement_rate=6.89,
            cpm=933.33,
            cpe=13.55,
            timeline_pct=60.0,
        ),
        bookings=[
            BookingNumbers(
                booking_id=B1,
                influencer_id=MAYA,
                fee_cents=250_000_00,
                actual_views=300_000,
                actual_engagement=21_000,
                committed_views=900_000,
            ),
            BookingNumbers(
                booking_id=B2,
                influencer_id=MAYA,
                fee_cents=50_000_00,
                actual_views=30_000,
                actual_engagement=1_000,
            ),
            BookingNumbers(
                booking_id=B3,
                influencer_id=None,
                fee_cents=120_000_00,
                actual_views=120_000,
                actual_engagement=9_000,
            ),
        ],
        posts=[
            PostNumbers(
                post_id=UUID(int=0x501),
                booking_id=B3,
                platform="tiktok",
                url="https://www.tiktok.com/@leo/video/1",
                caption="Night routine",
                thumb_url="https://p16-sign.tiktokcdn.com/t.jpeg",
                latest=latest,
                posted_at=datetime(2026, 11, 12, 18, tzinfo=UTC),
            ),
            PostNumbers(
                post_id=UUID(int=0x502),
                booking_id=B1,
                platform="instagram",
                url="javascript:alert(1)",
                thumb_url="https://tracker.example/p.gif",
            ),
        ],
        daily=[
            DailyPoint(
                date=date(2026, 11, 11),
                views_cum=100_000,
                views_delta=100_000,
                engagement_cum=7_000,
                engagement_delta=7_000,
                posts_live=2,
            ),
            DailyPoint(
                date=date(2026, 11, 12),
                views_cum=450_000,
                views_delta=350_000,
                engagement_cum=31_000,
                engagement_delta=24_000,
                posts_live=4,
            ),
        ],
        platforms=[
            PlatformSplit(platform="tiktok", views=400_000, engagement=28_000),
            PlatformSplit(platform="instagram", views=50_000, engagement=3_000),
        ],
        as_of=as_of,
    )


def _refs() -> ShareRefs:
    return ShareRefs(
        campaign=CampaignRef(
            id=CAMPAIGN,
            client_id=CLIENT,
            name="Glow Serum Launch",
            status="live",
            start_date=date(2026, 11, 11),
            end_date=date(2026, 11, 25),
        ),
        client=ClientRef(
            id=CLIENT, name="Lumière", brand_color="#C2185B", logo_url="https://l.example/x.png"
        ),
        influencers={
            MAYA: InfluencerRef(MAYA, "Maya Styles", None, "macro", ("instagram", "tiktok")),
            LEO: InfluencerRef(LEO, "Leo Runs", "https://a.example/leo.jpg", "micro", ()),
        },
        bookings={B3: BookingRef(B3, CAMPAIGN, LEO)},
    )


def test_creators_sum_their_bookings_and_show_their_posts() -> None:
    payload = redact(_doc(), _refs(), NOW)
    maya, leo = payload.influencers
    assert (maya.display_name, maya.actual_views, maya.actual_engagement) == (
        "Maya Styles",
        330_000,
        22_000,
    )
    assert maya.engagement_rate == 6.67  # 100 × 22,000 / 330,000, half up
    assert maya.platforms == ["instagram", "tiktok"]
    # The booking's creator comes from the catalog copy when the document does not name it.
    assert (leo.display_name, leo.actual_views, leo.engagement_rate) == ("Leo Runs", 120_000, 7.5)
    assert leo.avatar_url == "https://a.example/leo.jpg"
    assert [p.thumb_url for p in leo.posts] == ["https://p16-sign.tiktokcdn.com/t.jpeg"]
    assert leo.posts[0].counters is not None
    assert leo.posts[0].counters.estimated
    # A script URL and a non-CDN thumbnail are dropped, not shown.
    assert (maya.posts[0].url, maya.posts[0].thumb_url) == (None, None)


def test_a_deleted_booking_or_campaign_shows_nothing() -> None:
    refs = _refs()
    # A deleted booking counts nowhere: the aggregator's document after the deletion leaves it
    # out, and the client's view shows the document's creators (the staff report's rule too).
    full = _doc().model_dump()
    after_deletion = CampaignNumbers.model_validate(
        {
            **full,
            "bookings": [b for b in full["bookings"] if b["booking_id"] != B3],
            "posts": [p for p in full["posts"] if p["booking_id"] != B3],
            "creators": [],
        }
    )
    payload = redact(after_deletion, refs, NOW)
    assert [i.display_name for i in payload.influencers] == ["Maya Styles"]
    assert [i.actual_views for i in payload.influencers] == [330_000]
    assert refs.campaign is not None
    deleted = ShareRefs(campaign=dataclasses.replace(refs.campaign, deleted=True))
    assert build_payload(redact_numbers(_doc()), deleted, NOW) is None
    assert build_payload(None, ShareRefs(), NOW) is None


def test_a_campaign_without_numbers_yet_shows_zeros() -> None:
    payload = build_payload(None, _refs(), NOW)
    assert payload is not None
    assert (payload.campaign.name, payload.kpis.actual_views, payload.influencers) == (
        "Glow Serum Launch",
        0,
        [],
    )


def test_seen_later_the_timeline_moves_and_the_series_runs_on_like_the_staff_view() -> None:
    as_of = datetime(2026, 11, 12, 20, tzinfo=UTC)
    payload = redact(_doc(as_of), _refs(), as_of)
    later = datetime(2026, 11, 15, 6, tzinfo=UTC)
    seen = as_of_now(payload, as_of, later)
    assert seen.kpis.timeline_pct == timeline_pct(date(2026, 11, 11), date(2026, 11, 25), later)
    assert seen.kpis.timeline_pct == 28.33  # 4.25 of 15 days
    assert [d.date for d in seen.daily][-3:] == [date(2026, 11, 13 + i) for i in range(3)]
    assert [(d.views_cum, d.views_delta) for d in seen.daily[2:]] == [(450_000, 0)] * 3
    assert seen.generated_at == later
    # After the end date, the series stops a week later.
    very_late = datetime(2027, 1, 10, tzinfo=UTC)
    assert as_of_now(payload, as_of, very_late).daily[-1].date == date(2026, 12, 2)


def test_the_json_body_cut_once_is_the_payload_dumped_at_every_moment() -> None:
    """The JSON route answers from a cut of the payload's JSON (forward.JsonAtMoment): only the
    kpis and generated_at are dumped per view. Its bytes must be the whole dump's, always."""
    as_of = datetime(2026, 11, 12, 20, tzinfo=UTC)
    doc = _doc(as_of)
    refs = _refs()
    assert refs.campaign is not None
    assert refs.client is not None
    # Text a client controls that looks like the cut's keys must not move the cut.
    tricky = dataclasses.replace(refs.campaign, name='Launch "kpis":{} "generated_at":"x"}')
    client = dataclasses.replace(refs.client, name='"kpis":')
    undated = dataclasses.replace(refs.campaign, start_date=None, end_date=None)
    payloads = [
        redact(doc, refs, as_of),
        redact(doc, dataclasses.replace(refs, campaign=tricky, client=client), as_of),
        redact(doc, dataclasses.replace(refs, campaign=undated), as_of),
        build_payload(None, refs, as_of),
    ]
    moments = [
        as_of,
        datetime(2026, 11, 15, 6, tzinfo=UTC),  # no microseconds
        datetime(2026, 11, 15, 6, 7, 8, 123456, tzinfo=UTC),
        datetime(2026, 11, 15, 6, 7, 8, 100, tzinfo=UTC),
        datetime(2026, 11, 10, 23, 59, 59, 999999, tzinfo=UTC),  # before the start
        datetime(2027, 3, 1, tzinfo=UTC),  # after the end
    ]
    for payload in payloads:
        assert payload is not None
        forwarded = forward_to_day(payload, as_of, moments[2])
        cut = JsonAtMoment.of(forwarded)
        assert cut is not None, payload.campaign.name
        for now in moments:
            assert cut.at(now) == at_moment(forwarded, now).model_dump_json(), (payload, now)


# --- the page ---------------------------------------------------------------------------------


def test_the_page_shows_the_campaign_with_its_numbers_and_no_script() -> None:
    page = share_page(
        as_of_now(redact(_doc(), _refs(), NOW), NOW, NOW), media=media_src("tok", lambda _: True)
    )
    html = page.html
    assert "Glow Serum Launch" in html
    assert "Lumière" in html
    assert "450,000" in html
    assert "1,000,000" in html
    assert "45.00%" in html
    assert "<script" not in html.lower()
    assert "javascript:" not in html
    assert "tracker.example" not in html
    assert 'referrerpolicy="no-referrer"' in html
    assert '<svg class="chart chart-wide"' in html
    assert '<svg class="chart chart-narrow"' in html  # drawn again for a phone's width
    assert '<title id="chart-title-wide">' in html
    assert "estimated" in html
    # Images come through the link's own media route, never straight from a CDN.
    srcs = re.findall(r'<img[^>]* src="([^"]*)"', html)
    assert srcs
    assert all(src.startswith("/share/tok/media?url=https%3A%2F%2F") for src in srcs)


def test_without_a_media_route_the_page_shows_placeholders_not_images() -> None:
    html = share_page(as_of_now(redact(_doc(), _refs(), NOW), NOW, NOW)).html
    assert "<img" not in html


def test_the_csp_admits_exactly_the_pages_stylesheet() -> None:
    page = share_page(redact(_doc(), _refs(), NOW))
    css = re.search(r"<style>(.*?)</style>", page.html, re.S)
    assert css is not None
    digest = base64.b64encode(hashlib.sha256(css.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in page.csp
    assert page.csp.startswith("default-src 'none'; img-src 'self';")
    assert "script-src" not in page.csp
    assert "unsafe" not in page.csp
    assert "--brand:#C2185B" in css.group(1)


def test_the_not_found_page_is_always_the_same() -> None:
    assert not_found_page() == not_found_page()


def test_chart_geometry() -> None:
    assert growth_chart([]) is None
    assert [nice_ceiling(v) for v in (0, 7, 10, 11, 180_000, 450_001, 5_887_831)] == [
        1.0,
        8.0,
        10.0,
        12.0,
        200_000.0,
        500_000.0,
        6_000_000.0,
    ]
    chart = growth_chart(redact(_doc(), _refs(), NOW).daily)
    assert chart is not None
    assert len(chart.bars) == 2
    assert [t.label for t in chart.total_ticks] == ["0", "250K", "500K"]
    # The daily bars stand on their own axis, from 0: 350K new views is 87.5 % of its 400K top.
    assert [t.label for t in chart.daily_ticks] == ["0", "200K", "400K"]
    daily_height = chart.daily_bottom - chart.daily_top
    assert chart.bars[1].height == pytest.approx(daily_height * 350_000 / 400_000, abs=0.01)
    assert chart.bars[1].y + chart.bars[1].height == chart.daily_bottom
    # Not cut at either edge, and a hover target per day.
    assert chart.bars[0].x >= chart.left
    assert chart.bars[-1].x + chart.bars[-1].width <= chart.width - chart.right
    assert [(d.date, d.new) for d in chart.days][1] == ("12 Nov 2026", "+350,000 new that day")
    assert on_color("#ffeb3b") == "#111111"
    assert on_color("#1a237e") == "#ffffff"


# --- the headers on every response ------------------------------------------------------------


async def test_every_response_even_a_crash_carries_the_share_headers() -> None:
    app = FastAPI()
    install_error_handlers(app)
    app.add_middleware(SecurityHeaders)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("a bug")

    @app.get("/page")
    async def page() -> HTMLResponse:
        return HTMLResponse("<p>hi</p>", headers={"Content-Security-Policy": "default-src 'self'"})

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://share.test") as client:
        answers = [await client.get(p) for p in ("/boom", "/page", "/missing")]
    assert [r.status_code for r in answers] == [500, 200, 404]
    for r in answers:
        for name, value in SECURITY_HEADERS.items():
            assert r.headers[name] == value
    assert answers[0].headers["content-security-policy"] == API_CSP
    assert answers[1].headers["content-security-policy"] == "default-src 'self'"
    assert "a bug" not in answers[0].text
