"""Comments: each post's deterministic comment set and its pages in each platform's shape."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Final, Literal

from pydantic import BaseModel, Field

from .bodies import iso_z
from .posts import PlatformName, hash_int, unit

Mood = Literal["mixed", "positive", "negative"]

PAGE_SIZES: Final[dict[PlatformName, int]] = {
    "tiktok": 20,
    "instagram": 15,
    "youtube": 20,
    "facebook": 10,
}
DEFAULT_COMMENT_SPACING_S: Final = 90.0
# Share of (positive, neutral) per mood; the rest is negative.
MOODS: Final[dict[Mood, tuple[float, float]]] = {
    "mixed": (0.55, 0.30),
    "positive": (0.80, 0.15),
    "negative": (0.15, 0.15),
}
# Texts whose sentiment is clear to any reader (and to VADER: the fake's tests check each).
POSITIVE_TEXTS: Final = (
    "Love this look, you are glowing! 😍",
    "This is amazing, just ordered one 🔥",
    "Best video you have made so far, great job",
    "So beautiful, thank you for sharing ❤️",
    "Obsessed with this, it looks perfect on you",
    "Wow, the quality is awesome. Happy with mine too!",
    "Great tips, super helpful 👏",
    "Yes!! Love the colours, so fun",
    "Honestly the best brand collab I have seen, well done",
    "Gorgeous! Need this in my life 💯",
    "Such a cute outfit, you nailed it",
    "I bought it after your last video and I love it",
)
NEUTRAL_TEXTS: Final = (
    "Where did you get the jacket?",
    "What size are you wearing?",
    "Is there a discount code?",
    "Which shade is this",
    "Link in bio?",
    "Does it ship to Canada",
    "Watching this at 3am",
    "First time seeing this brand",
    "Part 2?",
    "How long does the battery last?",
    "Is this available in black",
    "Tag the brand",
)
NEGATIVE_TEXTS: Final = (
    "This is a scam, do not buy it",
    "Terrible quality, mine broke after two days 😡",
    "So fake. Unfollowing",
    "Worst ad ever, this is embarrassing",
    "Hate how every video is an ad now 👎",
    "Overpriced garbage, really disappointed",
    "Awful customer service, still waiting for a refund",
    "This looks cheap and ugly",
    "Stop promoting this brand, they are horrible",
    "Sad to see you sell out like this",
    "Ugh, boring and annoying",
    "Waste of money, total rip off 🤮",
)
COMMENTER_HANDLES: Final = (
    "lena.m",
    "jayden_k",
    "sofia.styles",
    "mike_reviews",
    "ana.b",
    "tom.eats",
    "priya_daily",
    "noah.fit",
)
_GOLDEN_FRACTION: Final = (math.sqrt(5) - 1) / 2


class CommentsBody(BaseModel):
    """A post's comment set: `count` comments `spacing_s` apart from the moment it went live."""

    url: str
    count: int = Field(ge=0, le=5000)
    mood: Mood = "mixed"
    spacing_s: float = Field(default=1.0, gt=0)


@dataclass(frozen=True)
class FakeComment:
    index: int  # 0 = the oldest
    comment_id: str
    text: str
    label: Literal["positive", "neutral", "negative"]
    handle: str
    at: float  # unix seconds
    likes: int


def comment_set(key: str, posted: float, chosen: CommentsBody | None) -> list[FakeComment]:
    """Every comment the post will ever have, oldest first (visibility is up to the caller)."""
    if chosen is None:
        count = 5 + math.floor(56 * unit(key, "comment-count"))
        mood: Mood = "mixed"
        spacing = DEFAULT_COMMENT_SPACING_S
    else:
        count, mood, spacing = chosen.count, chosen.mood, chosen.spacing_s
    positive, neutral = MOODS[mood]
    platform = key.split(":", 1)[0]
    comments = []
    # A golden-ratio sequence rather than an independent draw per comment: any run of
    # consecutive comments (a page, a bounded pull) then holds the mood's shares to within a
    # comment or two, so "negative" reliably reads as negative at every size a test or demo uses.
    phase = unit(key, "mood")
    for i in range(count):
        ckey = f"{key}:{i}"
        u = (phase + i * _GOLDEN_FRACTION) % 1.0
        label: Literal["positive", "neutral", "negative"]
        if u < positive:
            label, pool = "positive", POSITIVE_TEXTS
        elif u < positive + neutral:
            label, pool = "neutral", NEUTRAL_TEXTS
        else:
            label, pool = "negative", NEGATIVE_TEXTS
        comments.append(
            FakeComment(
                index=i,
                comment_id=_comment_id(platform, ckey),
                text=pool[hash_int(ckey, "text") % len(pool)],
                label=label,
                handle=f"{COMMENTER_HANDLES[hash_int(ckey, 'who') % len(COMMENTER_HANDLES)]}{i}",
                at=posted + (i + 1) * spacing,
                likes=hash_int(ckey, "likes") % 500,
            )
        )
    return comments


def _comment_id(platform: str, ckey: str) -> str:
    h = hash_int(ckey, "comment-id")
    if platform == "tiktok":
        return str(7_400_000_000_000_000_000 + h % 10**17)
    if platform == "instagram":
        return str(17_900_000_000_000_000 + h % 10**15)
    if platform == "youtube":
        return f"Ugw{h:016x}AaABAg"
    return f"Y29tbWVudDo{h:016x}"


def comments_page(
    platform: PlatformName, post_id: str, visible: list[FakeComment], offset: int, credits: int
) -> dict[str, Any]:
    """One page of the newest-first list, shaped like the platform's comments endpoint."""
    newest_first = sorted(visible, key=lambda c: c.index, reverse=True)
    size = PAGE_SIZES[platform]
    page = newest_first[offset : offset + size]
    end = offset + len(page)
    more = end < len(newest_first)
    if platform == "tiktok":
        return {
            "status_code": 0,
            "comments": [
                {
                    "cid": c.comment_id,
                    "aweme_id": post_id,
                    "text": c.text,
                    "create_time": math.floor(c.at),
                    "digg_count": c.likes,
                    "reply_comment_total": 0,
                    "user": {
                        "uid": str(hash_int(c.handle, "uid") % 10**18),
                        "unique_id": c.handle,
                        "nickname": c.handle.title(),
                    },
                }
                for c in page
            ],
            "cursor": end,
            "has_more": 1 if more else 0,
            "total": len(newest_first),
        }
    cursor = f"c{end}" if more else None
    if platform == "instagram":
        return {
            "success": True,
            "credits_remaining": credits,
            "comments": [
                {
                    "id": c.comment_id,
                    "text": c.text,
                    "created_at": math.floor(c.at),
                    "comment_like_count": c.likes,
                    "user": {
                        "id": str(hash_int(c.handle, "uid") % 10**11),
                        "username": c.handle,
                        "is_verified": False,
                    },
                }
                for c in page
            ],
            "cursor": cursor,
        }
    if platform == "youtube":
        return {
            "success": True,
            "comments": [
                {
                    "id": c.comment_id,
                    "content": c.text,
                    "publishedTimeText": "1 hour ago",
                    "publishedTime": iso_z(c.at),
                    "replyLevel": 0,
                    "author": {
                        "name": f"@{c.handle}",
                        "channelId": f"UC{hash_int(c.handle, 'channel'):022x}"[:24],
                        "isVerified": False,
                        "isCreator": False,
                        "channelUrl": f"https://youtube.com/@{c.handle}",
                    },
                    "engagement": {"likes": c.likes, "replies": 0},
                }
                for c in page
            ],
            "continuationToken": cursor,
        }
    return {
        "success": True,
        "credits_remaining": credits,
        "comments": [
            {
                "id": c.comment_id,
                "text": c.text,
                "created_at": iso_z(c.at),
                "reply_count": 0,
                "reaction_count": c.likes,
                "author": {
                    "id": str(hash_int(c.handle, "uid") % 10**15),
                    "name": c.handle.replace(".", " ").replace("_", " ").title(),
                },
                "feedback_id": f"feedback:{post_id}:{c.index}",
            }
            for c in page
        ],
        "cursor": cursor,
        "has_next_page": more,
    }


def cursor_offset(value: str | None) -> int | None:
    """The offset a cursor stands for; None when it is not one of ours."""
    if value is None or value == "":
        return 0
    digits = value[1:] if value.startswith("c") else value
    return int(digits) if digits.isdigit() else None
