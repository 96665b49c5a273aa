"""Hashtags and mentions read from captions: each rule of docs/insights.md, one case each."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest

from pulse_aggregator.inputs import BookingRef, Point, PostRef
from pulse_aggregator.tags import CaptionTags, TagRow, caption_tags, tag_rollup


@pytest.mark.parametrize(
    ("caption", "hashtags", "mentions"),
    [
        ("New drop #GlowUp with @Maya_Styles", ("glowup",), ("maya_styles",)),
        # Case folding: one tag however it is typed, kept once per caption, first seen first.
        ("#Summer #SUMMER #summer #Ad", ("summer", "ad"), ()),
        ("#Straße and #STRASSE", ("strasse",), ()),
        # Trailing punctuation ends the tag; a full stop after a handle ends the sentence.
        ("Love it! #sale! #deal, (#promo). Thanks @nike.", ("sale", "deal", "promo"), ("nike",)),
        ("Shot by @studio.north... #bts?", ("bts",), ("studio.north",)),
        # Unicode: letters and combining marks of any script are part of the tag.
        ("#สวัสดีครับ #नमस्ते #café #東京", ("สวัสดีครับ", "नमस्ते", "café", "東京"), ()),
        # Full-width signs and letters (CJK keyboards) are the same tags.
        ("＃ＳＡＬＥ ＠ＢＲＡＮＤ", ("sale",), ("brand",)),
        # Chained tags count; a sign inside a word, an e-mail or an HTML entity does not.
        ("#ootd#style a#b mail me@example.com &#39;", ("ootd", "style"), ()),
        # Numbers alone are numbering, not hashtags; underscores and digits inside are fine.
        ("#1 #2024 #top_10 #x1", ("top_10", "x1"), ()),
        ("# alone, @ alone, @.. and #", (), ()),
        ("", (), ()),
        (None, (), ()),
    ],
)
def test_caption_tags_follow_the_documented_rules(
    caption: str | None, hashtags: tuple[str, ...], mentions: tuple[str, ...]
) -> None:
    assert caption_tags(caption) == CaptionTags(hashtags, mentions)


def test_a_tag_longer_than_100_characters_is_ignored() -> None:
    assert caption_tags("#" + "a" * 101 + " #ok") == CaptionTags(("ok",), ())
    assert caption_tags("#" + "a" * 100).hashtags == ("a" * 100,)


def test_rollup_counts_tracked_posts_with_their_latest_figures_by_publication_day() -> None:
    campaign, kept, gone = uuid4(), uuid4(), uuid4()
    bookings = [
        BookingRef(kept, campaign, uuid4(), 0, None, None, None, None),
        BookingRef(gone, campaign, uuid4(), 0, None, None, None, None, deleted=True),
    ]
    day = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)
    a, b, c, d, e = (uuid4() for _ in range(5))
    posts = [
        PostRef(a, kept, campaign, "tiktok", posted_at=day),
        PostRef(b, kept, campaign, "instagram", posted_at=day),
        PostRef(c, kept, campaign, "tiktok", posted_at=None),  # no sample, date unknown
        PostRef(d, kept, campaign, "tiktok", posted_at=day, removed=True),
        PostRef(e, gone, campaign, "tiktok", posted_at=day),
    ]
    latest = {
        a: Point(a, day, 1000, 50, 5, 3, 2, None),
        b: Point(b, day, 500, 20, None, None, None, None),
        d: Point(d, day, 9999, 9, 9, 9, 9, None),
        e: Point(e, day, 9999, 9, 9, 9, 9, None),
    }
    tags = {p.id: CaptionTags(("glow",), ("maya",)) for p in posts}
    tags[b] = CaptionTags(("glow", "ad"), ())
    rows = tag_rollup(
        campaign_id=campaign, bookings=bookings, posts=posts, latest=latest, tags=tags
    )
    assert rows == [
        TagRow("hashtag", "ad", day.date(), 1, 500, 20),
        TagRow("hashtag", "glow", None, 1, 0, 0),
        TagRow("hashtag", "glow", day.date(), 2, 1500, 80),
        TagRow("mention", "maya", None, 1, 0, 0),
        TagRow("mention", "maya", day.date(), 1, 1000, 60),
    ]
