"""Property: whatever fees, budgets, spends, costs, per-booking commitments and ids the catalog
and the kpi.updated documents carry, no share output (JSON, HTML, the PDF report, or what share
stores) holds any of them, nor does what share decodes of a kpi.updated. Money values are drawn
from ranges no shown count can reach (≥ 10^11 cents, costs ≥ 10^6 with decimals), so a match can
only be a leak."""

from __future__ import annotations

import ast
import io
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pypdf import PdfReader

from pulse_contracts import make_event, parse_event
from pulse_contracts.catalog import (
    BookingUpserted,
    CampaignUpserted,
    ClientUpserted,
    Handle,
    InfluencerUpserted,
)
from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    DailyPoint,
    LatestCounters,
    PlatformSplit,
    PostNumbers,
)
from pulse_reporter.render import render_file
from pulse_runtime.messaging import parse_envelope
from pulse_share.domain import (
    ShareRefs,
    booking_ref,
    campaign_ref,
    client_ref,
    influencer_ref,
    redact,
    redact_numbers,
)
from pulse_share.forward import as_of_now
from pulse_share.messages import NARROW, NumbersRead
from pulse_share.render import media_src, share_page
from pulse_share.report_jobs import ShareJob, job_request

PLATFORMS = ("tiktok", "instagram", "youtube", "facebook", "other")
STAMP = datetime(2026, 11, 1, tzinfo=UTC)

money_cents = st.integers(min_value=10**11, max_value=10**14)
commitment = st.integers(min_value=10**11, max_value=10**14)
# A cost with an integer part no count shown reaches and decimals that always print.
cost = st.builds(
    lambda whole, frac: whole + frac / 1000,
    st.integers(min_value=10**7, max_value=10**9),
    st.integers(min_value=101, max_value=999).filter(lambda f: f % 10),
)
# min_engagement_rate is a 0..100 rate: distinctive through four non-zero decimals.
rate_target = st.builds(
    lambda whole, frac: whole + frac / 10_000,
    st.integers(min_value=0, max_value=99),
    st.integers(min_value=1001, max_value=9999).filter(lambda f: f % 10),
)
count = st.integers(min_value=0, max_value=9_999_999)
small_count = st.integers(min_value=0, max_value=999_999)
pct = st.none() | st.integers(min_value=0, max_value=99_999).map(lambda n: n / 100)
words = st.text(alphabet="abcdefghij klmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", max_size=40)
name = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=3, max_size=20)
when = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
)


def _money_forms(cents: int) -> set[str]:
    return {
        str(cents),
        f"{cents:,}",
        f"{cents / 100:.2f}",
        f"{cents / 100:,.2f}",
        f"{cents // 100:,}",
        str(cents // 100),
    }


def _cost_forms(value: float) -> set[str]:
    return {repr(value), f"{value:.2f}", f"{value:,.2f}", f"{value:.3f}"}


def _id_forms(value: UUID) -> set[str]:
    return {str(value), value.hex, str(value).upper()}


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, Any]:
    """A catalog (client, campaign, creators, bookings) and the campaign's kpi.updated document."""
    org_id, client_id, campaign_id = (draw(st.uuids()) for _ in range(3))
    start = draw(st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 10, 1)))
    end = start + timedelta(days=draw(st.integers(min_value=0, max_value=60)))
    secrets: set[str] = set()
    ids: set[UUID] = {org_id, client_id, campaign_id}

    budget = draw(money_cents)
    secrets |= _money_forms(budget)
    campaign_event = CampaignUpserted(
        id=campaign_id,
        client_id=client_id,
        name=draw(name),
        status=draw(st.sampled_from(["draft", "live", "paused", "ended"])),
        start_date=start,
        end_date=end,
        budget_cents=budget,
        currency="EUR",
        committed_views=draw(st.none() | count),
        committed_engagement=draw(st.none() | count),
        updated_at=STAMP,
    )
    client_event = ClientUpserted(
        id=client_id,
        name=draw(name),
        brand_color=draw(st.none() | st.sampled_from(["#C2185B", "#00897b", "#ffeb3b"])),
        logo_url=draw(st.none() | st.just("https://cdn.example.com/logo.png")),
        updated_at=STAMP,
    )

    bookings, booking_events, influencer_events, posts = [], [], [], []
    for _ in range(draw(st.integers(min_value=0, max_value=4))):
        booking_id, influencer_id = draw(st.uuids()), draw(st.uuids())
        ids |= {booking_id, influencer_id}
        fee = draw(money_cents)
        views_c, engagement_c, posts_c = draw(commitment), draw(commitment), draw(commitment)
        min_er = draw(rate_target)
        b_cpm, b_cpe = draw(cost), draw(cost)
        secrets |= _money_forms(fee) | _cost_forms(b_cpm) | _cost_forms(b_cpe)
        secrets |= {f"{v:,}" for v in (views_c, engagement_c, posts_c)}
        secrets |= {str(v) for v in (views_c, engagement_c, posts_c)} | {repr(min_er)}
        booking_events.append(
            BookingUpserted(
                id=booking_id,
                campaign_id=campaign_id,
                influencer_id=influencer_id,
                fee_cents=fee,
                committed_views=views_c,
                committed_engagement=engagement_c,
                committed_posts=posts_c,
                min_engagement_rate=min_er,
                exclusivity_days=draw(st.none() | st.integers(0, 365)),
                usage_rights_days=draw(st.none() | st.integers(0, 365)),
                updated_at=STAMP,
            )
        )
        influencer_events.append(
            InfluencerUpserted(
                id=influencer_id,
                display_name=draw(name),
                avatar_url=draw(st.none() | st.just("https://p16.tiktokcdn.com/avatar.jpeg")),
                tier=draw(st.none() | st.sampled_from(["nano", "micro", "macro"])),
                handles=[
                    Handle(platform=p, handle=draw(name), followers=draw(st.none() | count))
                    for p in draw(st.lists(st.sampled_from(PLATFORMS), max_size=3, unique=True))
                ],
                updated_at=STAMP,
            )
        )
        actual_views, actual_engagement = draw(count), draw(small_count)
        bookings.append(
            BookingNumbers(
                booking_id=booking_id,
                influencer_id=draw(st.sampled_from([influencer_id, None])),
                fee_cents=fee,
                min_engagement_rate=min_er,
                committed_views=views_c,
                committed_engagement=engagement_c,
                committed_posts=posts_c,
                actual_views=actual_views,
                actual_engagement=actual_engagement,
                actual_posts=draw(st.integers(0, 5)),
                views_pct=draw(pct),
                engagement_pct=draw(pct),
                posts_pct=draw(pct),
                kpi_pct=draw(pct),
                engagement_rate=draw(pct),
                cpm=b_cpm,
                cpe=b_cpe,
            )
        )
        for _ in range(draw(st.integers(min_value=0, max_value=3))):
            post_id = draw(st.uuids())
            ids.add(post_id)
            views = draw(count)
            posts.append(
                PostNumbers(
                    post_id=post_id,
                    booking_id=booking_id,
                    influencer_id=influencer_id,
                    platform=draw(st.sampled_from(PLATFORMS)),
                    url=f"https://www.tiktok.com/@{draw(name)}/video/{draw(name)}",
                    posted_at=draw(st.none() | when),
                    caption=draw(st.none() | words),
                    thumb_url=draw(
                        st.none()
                        | st.just("https://p16-sign.tiktokcdn.com/thumb.jpeg")
                        | st.just("https://evil.example.com/track.gif")
                    ),
                    latest=draw(
                        st.none()
                        | st.builds(
                            LatestCounters,
                            views=st.just(views),
                            likes=st.none() | small_count,
                            comments=st.none() | small_count,
                            shares=st.none() | small_count,
                            saves=st.none() | small_count,
                            reach=st.none() | count,
                            observed_at=when,
                            engagement=small_count,
                            estimated=st.booleans(),
                        )
                    ),
                )
            )

    spend = draw(money_cents)
    c_cpm, c_cpe = draw(cost), draw(cost)
    secrets |= _money_forms(spend) | _cost_forms(c_cpm) | _cost_forms(c_cpe)
    days = [start + timedelta(days=i) for i in range(draw(st.integers(0, 12)))]
    doc = CampaignNumbers(
        campaign=CampaignFigures(
            campaign_id=campaign_id,
            client_id=client_id,
            name=campaign_event.name,
            status=campaign_event.status,
            start_date=start,
            end_date=end,
            currency="EUR",
            budget_cents=budget,
            spend_cents=spend,
            cpm=c_cpm,
            cpe=c_cpe,
            committed_views=draw(st.none() | count),
            committed_engagement=draw(st.none() | count),
            committed_posts=draw(st.none() | st.integers(0, 50)),
            actual_views=draw(count),
            actual_engagement=draw(small_count),
            actual_posts=draw(st.integers(0, 50)),
            views_pct=draw(pct),
            engagement_pct=draw(pct),
            posts_pct=draw(pct),
            kpi_pct=draw(pct),
            engagement_rate=draw(pct),
            timeline_pct=draw(pct),
        ),
        bookings=bookings,
        posts=posts,
        daily=[
            DailyPoint(
                date=d,
                views_cum=draw(count),
                views_delta=draw(st.integers(-99_999, 999_999)),
                engagement_cum=draw(small_count),
                engagement_delta=draw(st.integers(-9_999, 99_999)),
                posts_live=draw(st.integers(0, 50)),
            )
            for d in days
        ],
        platforms=[
            PlatformSplit(platform=p, views=draw(count), engagement=draw(small_count))
            for p in draw(st.lists(st.sampled_from(PLATFORMS), max_size=5, unique=True))
        ],
        as_of=datetime.combine(end, datetime.min.time(), UTC),
    )
    refs = ShareRefs(
        campaign=campaign_ref(campaign_event),
        client=client_ref(client_event),
        influencers={e.id: influencer_ref(e) for e in influencer_events},
        bookings={e.id: booking_ref(e) for e in booking_events},
    )
    return {"doc": doc, "refs": refs, "secrets": secrets, "ids": ids}


def _leaks(text: str, world: dict[str, Any]) -> list[str]:
    found = [s for s in world["secrets"] if s in text]
    found += [f for i in world["ids"] for f in _id_forms(i) if f in text]
    return found


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds(), viewed_after=st.integers(min_value=0, max_value=30))
def test_no_money_and_no_internal_id_reaches_any_share_output(
    world: dict[str, Any], viewed_after: int
) -> None:
    doc: CampaignNumbers = world["doc"]
    payload = redact(doc, world["refs"], generated_at=doc.as_of)
    seen = as_of_now(payload, doc.as_of, doc.as_of + timedelta(days=viewed_after, hours=5))
    page = share_page(
        seen, pdf_href="/share/a-token/report.pdf", media=media_src("a-token", lambda _: True)
    )

    assert _leaks(seen.model_dump_json(), world) == []
    assert _leaks(payload.model_dump_json(), world) == []
    assert _leaks(page.html, world) == []
    assert _leaks(page.csp, world) == []
    # What share stores of a document holds no money either (ids for joins are allowed there).
    stored = redact_numbers(doc).model_dump_json()
    assert [s for s in world["secrets"] if s in stored] == []


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds())
def test_what_share_decodes_of_kpi_updated_holds_no_money_and_stores_the_same(
    world: dict[str, Any],
) -> None:
    # share's subscriber decodes only what the redaction reads (pulse_share.messages).
    doc: CampaignNumbers = world["doc"]
    body = make_event(doc, org_id=uuid4(), producer="aggregator").model_dump_json().encode()
    narrow = parse_envelope(body, "kpi.updated", NARROW).data
    assert isinstance(narrow, NumbersRead)
    assert [s for s in world["secrets"] if s in narrow.model_dump_json()] == []
    whole = parse_event(body).data
    assert isinstance(whole, CampaignNumbers)
    stored = redact_numbers(narrow).model_dump_json()
    assert stored == redact_numbers(whole).model_dump_json()
    assert (
        redact(narrow, world["refs"], doc.as_of).model_dump_json()
        == redact(whole, world["refs"], doc.as_of).model_dump_json()
    )


# Rendering a PDF costs ~100 ms, so this half of the property runs fewer examples.
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world=worlds(), viewed_after=st.integers(min_value=0, max_value=30))
def test_no_money_and_no_internal_id_reaches_the_pdf_report(
    world: dict[str, Any], viewed_after: int
) -> None:
    doc: CampaignNumbers = world["doc"]
    payload = redact(doc, world["refs"], generated_at=doc.as_of)
    seen = as_of_now(payload, doc.as_of, doc.as_of + timedelta(days=viewed_after, hours=5))
    # The PDF as it is made now: the report job share sends, rendered by the reporter.
    job = job_request(
        ShareJob(
            id=uuid4(),
            org_id=uuid4(),
            attempt=1,
            status="pending",
            progress=0,
            error=None,
            updated_at=STAMP,
        ),
        seen,
    )
    assert _leaks(job.model_dump_json(), world) == []  # nor on the wire to the reporter
    pdf = render_file(job, lambda _: None).content
    assert pdf.startswith(b"%PDF-")

    reader = PdfReader(io.BytesIO(pdf))
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert seen.campaign.name in text
    assert _leaks(text, world) == []
    # Nor anywhere in the file: metadata, link annotations, anything not drawn as text.
    assert _leaks(pdf.decode("latin-1"), world) == []
    assert _leaks(str(reader.metadata or {}), world) == []


@settings(max_examples=60, deadline=None)
@given(world=worlds())
def test_the_campaign_numbers_are_the_documents_to_the_unit(world: dict[str, Any]) -> None:
    doc: CampaignNumbers = world["doc"]
    payload = redact(doc, world["refs"], generated_at=doc.as_of)
    c = doc.campaign
    k = payload.kpis
    assert (k.actual_views, k.actual_engagement, k.actual_posts) == (
        c.actual_views,
        c.actual_engagement,
        c.actual_posts,
    )
    assert (k.committed_views, k.committed_engagement, k.committed_posts) == (
        c.committed_views,
        c.committed_engagement,
        c.committed_posts,
    )
    assert (k.views_pct, k.engagement_pct, k.posts_pct, k.kpi_pct, k.engagement_rate) == (
        c.views_pct,
        c.engagement_pct,
        c.posts_pct,
        c.kpi_pct,
        c.engagement_rate,
    )
    assert [d.model_dump() for d in payload.daily] == [d.model_dump() for d in doc.daily]
    assert [p.model_dump() for p in payload.platforms] == [p.model_dump() for p in doc.platforms]
    # Every creator's views are their bookings' views, summed.
    assert sum(i.actual_views for i in payload.influencers) == sum(
        b.actual_views for b in doc.bookings
    )
    # Only platform-CDN thumbnails are ever shown.
    thumbs = {p.thumb_url for i in payload.influencers for p in i.posts} - {None}
    assert thumbs <= {"https://p16-sign.tiktokcdn.com/thumb.jpeg"}


def test_the_payload_has_exactly_the_allow_listed_fields() -> None:
    """design/api.md's allow-list, literally: a new field is a decision, not an accident."""
    from pulse_contracts.numbers import ClientKpis, DailyPoint, PlatformSplit
    from pulse_share.domain import (
        ShareCampaign,
        ShareClient,
        ShareCounters,
        ShareInfluencer,
        SharePayload,
        SharePost,
    )

    assert set(SharePayload.model_fields) == {
        "campaign",
        "client",
        "kpis",
        "daily",
        "platforms",
        "influencers",
        "generated_at",
    }
    assert set(ShareCampaign.model_fields) == {"name", "status", "start_date", "end_date"}
    assert set(ShareClient.model_fields) == {"name", "brand_color", "logo_url"}
    assert set(ClientKpis.model_fields) == {
        "committed_views",
        "committed_engagement",
        "committed_posts",
        "actual_views",
        "actual_engagement",
        "actual_posts",
        "views_pct",
        "engagement_pct",
        "posts_pct",
        "kpi_pct",
        "engagement_rate",
        "timeline_pct",
    }
    assert set(ShareInfluencer.model_fields) == {
        "display_name",
        "avatar_url",
        "tier",
        "platforms",
        "actual_views",
        "actual_engagement",
        "engagement_rate",
        "posts",
    }
    assert set(SharePost.model_fields) == {
        "platform",
        "url",
        "thumb_url",
        "posted_at",
        "caption",
        "counters",
    }
    assert set(ShareCounters.model_fields) == {
        "views",
        "likes",
        "comments",
        "shares",
        "saves",
        "reach",
        "engagement",
        "estimated",
    }
    assert set(DailyPoint.model_fields) == {
        "date",
        "views_cum",
        "views_delta",
        "engagement_cum",
        "engagement_delta",
        "posts_live",
    }
    assert set(PlatformSplit.model_fields) == {"platform", "views", "engagement"}


def test_share_has_no_way_to_hand_money_to_the_renderer() -> None:
    """The report's internal figures live in pulse_report.staff; share never imports it, so
    no code path in share can construct them, and the running service never loads them."""
    package = Path(__file__).resolve().parents[1] / "pulse_share"
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = {node.module or ""} | {a.name for a in node.names}
            elif isinstance(node, ast.Import):
                names = {a.name for a in node.names}
            else:
                continue
            assert not any("staff" in n.lower() for n in names), (source.name, names)
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, pulse_share.app; print(sorted(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "pulse_report.html" in loaded
    assert "pulse_report.staff" not in loaded
