"""Sizes of a full run and of the smoke run: the same code path, only the numbers differ."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Sizes:
    # The read set (P3, P4, P5, P7): campaigns × bookings × posts, samples per post (hourly).
    read_campaigns: int
    read_bookings: int
    read_posts_per_booking: int
    samples_per_post: int
    # The ingest set (P1, P2, P6): "20 bookings × 10 TikTok posts" per campaign.
    load_campaigns: int
    load_bookings: int
    load_posts_per_booking: int
    # P1
    broker_messages: int
    ingest_seconds: float
    ingest_batch: int
    ingest_in_flight: int
    drain_timeout_s: float
    # P2
    freshness_seconds: float
    background_samples_per_s: int
    # P3 / P5
    read_clients: int
    read_seconds: float
    warmup_seconds: float
    share_links: int
    # P4
    naive_campaigns: int
    # P8
    ready_repetitions: int
    # P9
    track_bookings: int
    track_posts_per_booking: int
    track_timeout_s: float
    # Catalog seeding through the API: requests in flight.
    seed_concurrency: int

    @property
    def read_posts(self) -> int:
        return self.read_campaigns * self.read_bookings * self.read_posts_per_booking

    @property
    def read_samples(self) -> int:
        return self.read_posts * self.samples_per_post

    @property
    def load_posts(self) -> int:
        return self.load_campaigns * self.load_bookings * self.load_posts_per_booking

    @property
    def track_posts(self) -> int:
        return self.track_bookings * self.track_posts_per_booking

    def seed_json(self) -> str:
        """The sizes the seeded template depends on (its fingerprint); the others only change
        how long scenarios run."""
        seeded = {
            k: v
            for k, v in asdict(self).items()
            if k.startswith(("read_campaigns", "read_bookings", "read_posts", "load_"))
            or k in ("samples_per_post",)
        }
        return json.dumps(seeded, sort_keys=True)

    def as_json(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "read_posts": self.read_posts,
            "read_samples": self.read_samples,
            "load_posts": self.load_posts,
            "track_posts": self.track_posts,
        }


FULL = Sizes(
    read_campaigns=500,
    read_bookings=10,
    read_posts_per_booking=2,
    samples_per_post=1000,  # 10,000 posts × 1,000 = 10M samples, hourly over ~41 days
    load_campaigns=10,
    load_bookings=20,
    load_posts_per_booking=10,
    broker_messages=20_000,
    ingest_seconds=300.0,
    ingest_batch=500,
    ingest_in_flight=4,
    drain_timeout_s=600.0,
    freshness_seconds=30.0,
    background_samples_per_s=2000,
    read_clients=32,
    read_seconds=30.0,
    warmup_seconds=3.0,
    share_links=32,
    naive_campaigns=20,
    ready_repetitions=3,
    track_bookings=20,
    track_posts_per_booking=10,
    track_timeout_s=120.0,
    seed_concurrency=8,
)

SMOKE = Sizes(
    read_campaigns=4,
    read_bookings=2,
    read_posts_per_booking=2,
    samples_per_post=125,  # 16 posts × 125 = 2,000 samples
    load_campaigns=2,
    load_bookings=2,
    load_posts_per_booking=5,
    broker_messages=500,
    ingest_seconds=3.0,
    ingest_batch=50,
    ingest_in_flight=2,
    drain_timeout_s=60.0,
    freshness_seconds=3.0,
    background_samples_per_s=200,
    read_clients=4,
    read_seconds=2.0,
    warmup_seconds=0.5,
    share_links=2,
    naive_campaigns=2,
    ready_repetitions=1,
    track_bookings=2,
    track_posts_per_booking=10,
    track_timeout_s=60.0,
    seed_concurrency=4,
)
