"""Events and commands about tracked posts: samples pulled, pulls failed, fetches requested."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from .envelope import ContractModel, EventData, register
from .values import Counter, LongText, Platform, SampleSource, ShortText, Url

MAX_SAMPLES_PER_MESSAGE = 1000


class Counters(ContractModel):
    """A post's cumulative public counters; None where the platform does not expose one."""

    views: Counter = None
    likes: Counter = None
    comments: Counter = None
    shares: Counter = None
    saves: Counter = None
    reach: Counter = None


class Sample(Counters):
    """Cumulative public counters of one post at `observed_at`. Unique on (post_id, observed_at)."""

    post_id: UUID
    booking_id: UUID
    campaign_id: UUID
    platform: Platform
    observed_at: datetime
    source: SampleSource
    estimated: bool = False


class PostFacts(ContractModel):
    """Facts about a post learned from the provider the first time they are known."""

    post_id: UUID
    posted_at: datetime | None = None
    caption: LongText | None = None
    thumb_url: Url | None = None


@register
class PostPulled(EventData):
    """A batch of newly stored samples of one organization (never one message per sample)."""

    event_type = "post.pulled"
    samples: list[Sample] = Field(min_length=1, max_length=MAX_SAMPLES_PER_MESSAGE)
    posts: list[PostFacts] = Field(default_factory=list, max_length=MAX_SAMPLES_PER_MESSAGE)


@register
class PostPullFailed(EventData):
    event_type = "post.pull_failed"
    post_id: UUID
    booking_id: UUID
    campaign_id: UUID
    provider: ShortText
    error_code: ShortText
    message: LongText
    consecutive_failures: int = Field(ge=1)


class FetchTarget(ContractModel):
    post_id: UUID
    platform: Platform
    url: Url


@register
class FetchPosts(EventData):
    """Command to ingest: pull these posts from the provider now (one platform per batch)."""

    event_type = "ingest.fetch_posts"
    priority: Literal["high", "low"]
    reason: Literal["start_tracking", "scheduled", "manual"]
    posts: list[FetchTarget] = Field(min_length=1, max_length=100)


@register
class PostCommentsScored(EventData):
    """Sentiment of a post's analysed comments: counts only, the text stays in ingest.

    Counts cover every distinct comment ingest has analysed for the post so far, so a newer
    event supersedes an older one (keep the greater `scored_at`).
    """

    event_type = "post.comments_scored"
    post_id: UUID
    booking_id: UUID
    campaign_id: UUID
    platform: Platform
    analysed: int = Field(ge=0)
    positive: int = Field(ge=0)
    neutral: int = Field(ge=0)
    negative: int = Field(ge=0)
    scored_at: datetime
