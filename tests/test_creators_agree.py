"""The client's view and the agency's report show the same creators for the same document:
both read the document's creators (pulse_contracts.numbers.CreatorNumbers), so they can no
longer disagree on who counts (a deleted booking) or in what order posts come."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    CampaignNumbers,
    LatestCounters,
    PostNumbers,
)
from pulse_gateway.staff_report import CreatorInfo, staff_report
from pulse_share.domain import BookingRef, InfluencerRef, ShareRefs, redact

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
CAMPAIGN = UUID(int=0x100)
MAYA, LEO = UUID(int=0x301), UUID(int=0x302)
B1, B2, B3 = UUID(int=0x401), UUID(int=0x402), UUID(int=0x403)


def _post(n: int, booking: UUID, who: UUID, posted: datetime | None, views: int) -> PostNumbers:
    latest = LatestCounters(
        observed_at=NOW, views=views, likes=views // 10, comments=0, shares=None, saves=None,
        reach=None, engagement=views // 10,
    )  # fmt: skip
    return PostNumbers(
        post_id=UUID(int=0x500 + n),
        booking_id=booking,
        influencer_id=who,
        platform="instagram",
        url=f"https://www.instagram.com/p/{n}/",
        posted_at=posted,
        latest=latest,
    )


def _doc() -> CampaignNumbers:
    def booking(bid: UUID, who: UUID, views: int) -> BookingNumbers:
        return BookingNumbers(
            booking_id=bid,
            influencer_id=who,
            actual_views=views,
            actual_engagement=views // 10,
            actual_posts=1,
        )

    return CampaignNumbers(
        campaign=CampaignFigures(campaign_id=CAMPAIGN, name="Glow"),
        bookings=[booking(B1, MAYA, 1_000), booking(B2, MAYA, 3_000), booking(B3, LEO, 2_000)],
        posts=[
            _post(1, B2, MAYA, datetime(2026, 11, 14, 9, tzinfo=UTC), 3_000),
            _post(2, B1, MAYA, None, 1_000),
            _post(3, B3, LEO, datetime(2026, 11, 12, tzinfo=UTC), 2_000),
        ],
        as_of=NOW,
    )


def test_share_and_the_staff_report_show_the_same_creators_in_the_same_order() -> None:
    doc = _doc()
    refs = ShareRefs(
        influencers={
            MAYA: InfluencerRef(MAYA, "Maya", None, None, ("instagram",)),
            LEO: InfluencerRef(LEO, "Leo", None, None, ("instagram",)),
        },
        bookings={
            b: BookingRef(b, CAMPAIGN, who) for b, who in ((B1, MAYA), (B2, MAYA), (B3, LEO))
        },
    )
    client_view = redact(doc, refs, NOW)
    report, _ = staff_report(
        doc,
        client=None,
        creators={
            MAYA: CreatorInfo("Maya", None, ("instagram",)),
            LEO: CreatorInfo("Leo", None, ("instagram",)),
        },
        generated_at=NOW,
    )
    shown = [
        (i.display_name, i.actual_views, i.engagement_rate, [p.url for p in i.posts])
        for i in client_view.influencers
    ]
    reported = [
        (c.display_name, c.actual_views, c.engagement_rate, [p.url for p in c.posts])
        for c in report.creators
    ]
    assert (
        shown
        == reported
        == [
            # Maya's posts: the live one first, the one not yet posted last.
            (
                "Maya",
                4_000,
                10.0,
                ["https://www.instagram.com/p/1/", "https://www.instagram.com/p/2/"],
            ),
            ("Leo", 2_000, 10.0, ["https://www.instagram.com/p/3/"]),
        ]
    )
