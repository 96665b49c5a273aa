"""Samples for the ingest agency's posts, shaped like n8n's webhook calls, with a known answer.

Each post's samples get strictly increasing `observed_at` (10 ms apart, from an hour ago) and
strictly increasing views (1,000 + 10 × the sample's number), so the latest sample of a post
is the last one generated for it, and the views the services must end up showing per campaign
are known exactly: that is how P1 counts missing samples.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from .catalog import Post

STEP = timedelta(milliseconds=10)
ITEM = (
    '{"post_id":"%s","observed_at":"%s","metrics":'
    '{"views":%d,"likes":%d,"comments":%d,"shares":%d,"saves":%d}}'
)


def views_of(k: int) -> int:
    """Views of a post's k-th sample (k ≥ 1); 0 stands for "no sample yet"."""
    return 1000 + 10 * k if k else 0


def sample_number(views: int | None) -> int:
    """The inverse of views_of: which sample of its post a latest views figure is."""
    return (views - 1000) // 10 if views else 0


class Feed:
    def __init__(self, posts: Sequence[Post], now: datetime | None = None) -> None:
        self.posts = list(posts)
        self.sent = [0] * len(self.posts)  # samples generated per post
        self._next = 0
        self._t0 = (now or datetime.now(UTC)) - timedelta(hours=1)

    def batch(self, size: int) -> tuple[bytes, int]:
        """`{"items": [...]}` for the next `size` samples, round robin over the posts."""
        items = []
        limit = datetime.now(UTC) + timedelta(minutes=4)
        for _ in range(size):
            i = self._next
            self._next = (i + 1) % len(self.posts)
            k = self.sent[i] = self.sent[i] + 1
            observed = self._t0 + STEP * k
            if observed > limit:  # ingest refuses samples 5 minutes ahead
                raise RuntimeError("feed ran past the present: observed_at would be refused")
            views = 1000 + 10 * k
            items.append(
                ITEM
                % (
                    self.posts[i].id,
                    observed.isoformat(timespec="milliseconds").replace("+00:00", "Z"),
                    views,
                    views // 20,
                    views // 250,
                    views // 500,
                    views // 400,
                )
            )
        return ('{"items":[' + ",".join(items) + "]}").encode(), size

    def expected_views(self) -> dict[str, int]:
        """Σ latest views per campaign if every generated sample is in the numbers."""
        totals: dict[str, int] = {}
        for post, k in zip(self.posts, self.sent, strict=True):
            totals[post.campaign_id] = totals.get(post.campaign_id, 0) + views_of(k)
        return totals

    @property
    def generated(self) -> int:
        return sum(self.sent)
