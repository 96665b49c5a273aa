"""The aggregator's internal reads: the numbers document and its parts, a creator's daily
series, top hashtags. The document itself is `pulse_contracts.numbers.CampaignNumbers`."""

from pulse_contracts.numbers import (
    BookingNumbers,
    CampaignFigures,
    DailyPoint,
    PlatformSplit,
    PostNumbers,
)

from .base import Answer


class BookingPage(Answer):
    items: list[BookingNumbers]
    next_cursor: str | None = None


class PostPage(Answer):
    items: list[PostNumbers]
    next_cursor: str | None = None


class PlatformList(Answer):
    items: list[PlatformSplit]


class DailySeries(Answer):
    """The campaign's daily series, or (with `influencer_id`) one creator's."""

    items: list[DailyPoint]


class CampaignSummaries(Answer):
    """Campaign figures of the ids asked for; campaigns not computed yet are left out."""

    items: list[CampaignFigures]


class TagCount(Answer):
    """One hashtag or mention over the posts that carry it (docs/insights.md)."""

    tag: str
    posts: int
    views: int
    engagement: int
    engagement_rate: float | None  # 100 × engagement / views; None without views


class TopTags(Answer):
    """Top hashtags and mentions, by views (the aggregator's campaign rollup, or ingest's
    rollup of benchmark accounts)."""

    hashtags: list[TagCount]
    mentions: list[TagCount]
