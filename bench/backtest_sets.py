"""The campaigns `make backtest` replays: the demo agency's, and a seeded synthetic set.

Both are complete curves, so the final at the end date is known and every earlier day can be
replayed with only the samples observed by then. The synthetic set is deliberately varied:
creators of very different reach, decay rates from fast (half the views on day one) to slow,
noisy pulls (gains jitter, missed pulls), late posts, second waves, and posts never made.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID, uuid5

from pulse_gateway import demo

_NS = UUID("6f0d8a4e-1c59-4d5e-9b53-1a2f3c4d5e6f")
SAMPLE_EVERY = timedelta(hours=6)


@dataclass
class Sample:
    observed_at: datetime
    views: int
    likes: int


@dataclass
class BookingRun:
    booking_id: UUID
    committed_views: int | None
    committed_engagement: int | None
    committed_posts: int | None
    posts: list[list[Sample]] = field(default_factory=list)  # per post, ascending
    # The creator's true engagement per view where the set draws one (the synthetic set): what
    # the backtest can compare the rate the forecast knows with.
    engagement_rate: float | None = None


@dataclass
class CampaignRun:
    name: str
    start: date
    end: date
    bookings: list[BookingRun] = field(default_factory=list)


def _midnight(d: date) -> datetime:
    return datetime.combine(d, time(0), UTC)


def _sampled(
    posted: datetime,
    stop: datetime,
    views_at: Callable[[float], float],
    eng: float,
    rng: random.Random,
    *,
    miss: float,
) -> list[Sample]:
    """A pull an hour after posting, then every six hours (some missed), until `stop`."""
    samples: list[Sample] = []
    t = posted + timedelta(hours=1)
    best = 0
    while t <= stop:
        if samples and rng.random() < miss:
            t += SAMPLE_EVERY
            continue
        days = (t - posted).total_seconds() / 86400
        views = max(int(views_at(days)), best)  # cumulative counters never fall here
        best = views
        samples.append(Sample(t, views, int(views * eng)))
        t += SAMPLE_EVERY
    return samples


def synthetic_campaigns(
    seed: int = 14,
    count: int = 80,
    *,
    exact_commitments: bool = False,
    only_posts_made: bool = False,
) -> list[CampaignRun]:
    """`count` finished campaigns with known curves (module docstring for what varies).

    `exact_commitments` gives every booking the truth as its commitment (the creator's reach
    per post and its engagement rate) and changes nothing else: the posts and samples are the
    same, so the backtest can show what the forecast scores when no commitment is off.
    `only_posts_made` commits each booking to the posts its creator will make, at the same views
    and engagement per post: the forecast then knows which posts still to come are never made,
    which nothing observed tells it.
    """
    rng = random.Random(seed)
    runs: list[CampaignRun] = []
    for index in range(count):
        start = date(2026, 1, 5) + timedelta(days=rng.randrange(0, 200))
        days = rng.randint(14, 45)
        end = start + timedelta(days=days - 1)
        run = CampaignRun(f"synthetic-{index:02d}", start, end)
        stop = _midnight(end) + timedelta(days=1, hours=-1)
        for b in range(rng.randint(2, 6)):
            reach = math.exp(rng.uniform(math.log(20_000), math.log(2_000_000)))
            planned = rng.randint(1, 4)
            eng = rng.uniform(0.02, 0.1)
            # Both draws are made either way, so the set's posts do not depend on the option.
            off_views, off_engagement = rng.uniform(0.7, 1.3), rng.uniform(0.7, 1.3)
            if exact_commitments:
                off_views = off_engagement = 1.0
            booking = BookingRun(
                uuid5(_NS, f"{seed}:{index}:{b}"),
                committed_views=int(reach * planned * off_views),
                committed_engagement=int(reach * planned * eng * off_engagement),
                committed_posts=planned,
                engagement_rate=eng,
            )
            # The creator's own decay: some spread around it per post.
            creator_rate = rng.uniform(0.35, 0.9)
            for _ in range(planned):
                if rng.random() < 0.05:
                    continue  # a post never made
                late = rng.random() < 0.2
                span = days * (rng.uniform(0.5, 0.85) if late else rng.uniform(0, 0.45))
                posted = _midnight(start) + timedelta(days=span, hours=rng.uniform(0, 23))
                total = reach * math.exp(rng.gauss(0, 0.35))
                rate = min(max(creator_rate + rng.uniform(-0.08, 0.08), 0.2), 0.95)
                wave = rng.random() < 0.1
                wave_at = rng.uniform(3, 10)
                wave_total = total * rng.uniform(0.2, 0.6)
                # Six-hour gains of the curve, each scaled by its own noise, summed: noisy but
                # never falling, as public counters are.
                cum, held = [], 0.0
                for k in range(4 * (days + 2)):
                    t0, t1 = k / 4, (k + 1) / 4
                    gain = total * (rate**t0 - rate**t1)
                    if wave and t1 > wave_at:
                        w0 = max(t0 - wave_at, 0)
                        gain += wave_total * (0.6**w0 - 0.6 ** (t1 - wave_at))
                    held += gain * math.exp(rng.gauss(0, 0.3))
                    cum.append(held)

                def views_at(t: float, cum: list[float] = cum) -> float:
                    return cum[min(int(t * 4), len(cum) - 1)]

                booking.posts.append(_sampled(posted, stop, views_at, eng, rng, miss=0.1))
            if only_posts_made:
                _commit_to(booking, len(booking.posts))
            run.bookings.append(booking)
        runs.append(run)
    return runs


def _commit_to(booking: BookingRun, posts: int) -> None:
    """The booking committed to `posts` posts at the views and engagement it committed per post."""
    planned = booking.committed_posts or 0
    if planned == posts or planned == 0:
        return
    booking.committed_views = (booking.committed_views or 0) * posts // planned
    booking.committed_engagement = (booking.committed_engagement or 0) * posts // planned
    booking.committed_posts = posts


def demo_runs(today: date) -> list[CampaignRun]:
    """The demo agency's campaigns with bookings (demo.py's curves), each played to its end."""
    runs: list[CampaignRun] = []
    for campaign in demo.demo_campaigns(today):
        if not campaign.bookings:
            continue
        run = CampaignRun(campaign.name, campaign.start, campaign.end)
        final_now = _midnight(campaign.end) + timedelta(days=1, hours=-1)
        for b, booking in enumerate(campaign.bookings):
            item = BookingRun(
                uuid5(_NS, f"demo:{campaign.name}:{b}"),
                committed_views=booking["committed_views"],
                committed_engagement=booking["committed_engagement"],
                committed_posts=booking["committed_posts"],
            )
            for post in booking["posts"]:
                item.posts.append(
                    [
                        Sample(
                            datetime.fromisoformat(s["observed_at"].replace("Z", "+00:00")),
                            s["metrics"]["views"],
                            sum(v or 0 for k, v in s["metrics"].items() if k != "views"),
                        )
                        for s in demo.post_samples(campaign, post, final_now)
                    ]
                )
            run.bookings.append(item)
        runs.append(run)
    return runs
