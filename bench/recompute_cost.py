"""The CPU one recompute of a large campaign spends building its numbers document, alone.

    python -m bench.recompute_cost [--posts-per-booking 10] [--bookings 20] [--repeat 40]

A 200-post campaign (20 bookings × 10 posts, 42 days of booking steps, half through its
timeline) built with the aggregator's own domain code, timed with `time.process_time` (CPU, not
wall time, so a busy machine moves it less); the serialisation of its `kpi.updated` apart. It
prints a digest of the document too: a change meant to be only faster must leave it unchanged.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from uuid import UUID

from pulse_aggregator.domain import campaign_numbers_from_steps
from pulse_aggregator.inputs import BookingRef, CampaignRef, Point, PostRef
from pulse_aggregator.series import Step
from pulse_contracts import make_event
from pulse_contracts.numbers import CampaignNumbers

START = date(2026, 10, 26)
NOW = datetime(2026, 12, 6, 12, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bookings", type=int, default=20)
    parser.add_argument("--posts-per-booking", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args()
    org_id, build = large_campaign(args.bookings, args.posts_per_booking)

    started = time.process_time()
    for _ in range(args.repeat):
        doc = build()
    built = time.process_time()
    for _ in range(args.repeat):
        body = make_event(doc, org_id=org_id, producer="aggregator", correlation_id="x")
        text = body.model_dump_json()
    dumped = time.process_time()
    print(
        f"{len(doc.posts)} posts: document {1000 * (built - started) / args.repeat:.1f} ms, "
        f"kpi.updated serialised {1000 * (dumped - built) / args.repeat:.1f} ms "
        f"({len(text) / 1024:.0f} KB), document sha256 "
        f"{hashlib.sha256(doc.model_dump_json().encode()).hexdigest()[:16]}"
    )


def large_campaign(
    bookings_n: int, posts_per_booking: int
) -> tuple[UUID, Callable[[], CampaignNumbers]]:
    """A campaign of `bookings_n` bookings of `posts_per_booking` posts each (always the same
    one for the same sizes): its organization and how to build its document."""
    rng = random.Random(1)

    def uuid() -> UUID:
        return UUID(int=rng.getrandbits(128))

    campaign = CampaignRef(
        uuid(), uuid(), uuid(), "Large", "live", START, START + timedelta(days=59),
        10_000_000, "EUR", 50_000_000, 2_000_000,
    )  # fmt: skip
    bookings: list[BookingRef] = []
    posts: list[PostRef] = []
    latest: dict[UUID, Point] = {}
    steps: dict[tuple[UUID, UUID], dict[date, Step]] = {}
    for _ in range(bookings_n):
        booking = BookingRef(uuid(), campaign.id, uuid(), 100_000, 2_000_000, 100_000, 10, None)
        bookings.append(booking)
        days = (NOW.date() - START).days + 1
        steps[(campaign.id, booking.id)] = {
            START + timedelta(days=d): Step(rng.randint(1000, 5000), rng.randint(10, 200), 10)
            for d in range(days)
        }
        for _ in range(posts_per_booking):
            post = PostRef(
                uuid(), booking.id, campaign.id, "tiktok",
                f"https://www.tiktok.com/@creator/video/{rng.randint(1, 10**18)}",
                datetime(2026, 10, 27, tzinfo=UTC), "caption #tag @mention", None,
            )  # fmt: skip
            posts.append(post)
            latest[post.id] = Point(
                post.id, NOW, views=rng.randint(10**4, 10**6), likes=rng.randint(100, 10**4),
                comments=10, shares=5, saves=3,
            )  # fmt: skip

    def build() -> CampaignNumbers:
        return campaign_numbers_from_steps(
            campaign=campaign, campaign_id=campaign.id, bookings=bookings, posts=posts,
            latest=latest, steps=steps, now=NOW,
        )  # fmt: skip

    return campaign.org_id, build


if __name__ == "__main__":
    main()
