"""Sentiment of one comment: VADER's compound score and its positive/neutral/negative label.

Why VADER (vaderSentiment 3.3.2): it was built for short social-media text (slang, caps,
"!!!", emoticons), it is deterministic, fast (tens of microseconds per comment, no GPU) and its
lexicon ships inside the wheel, so nothing is downloaded at run time. Its known limit is
language: it scores English; other languages mostly come out neutral, which under-counts
negatives rather than inventing them. A multilingual transformer would read more languages but
needs model weights at run time, which this service must not fetch.

Labels use VADER's documented thresholds: compound >= 0.05 positive, <= -0.05 negative,
neutral in between. Empty or whitespace-only text is neutral with compound 0.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from vaderSentiment.vaderSentiment import (  # type: ignore[import-untyped]  # no stubs
        SentimentIntensityAnalyzer,
    )

__all__ = ["NEGATIVE_AT", "POSITIVE_AT", "Label", "Sentiment", "score"]

Label = Literal["positive", "neutral", "negative"]

POSITIVE_AT: Final = 0.05
NEGATIVE_AT: Final = -0.05

# VADER reads an emoji through its Unicode name ("fire", "hundred points", "pouting face"),
# which misses what it means under a creator's post: 🔥 is praise, not danger, and 😡 or 👎
# say more than their names. These replacements are words VADER's lexicon scores in the
# sense the emoji carries in comments.
EMOJI_WORDS: Final[dict[str, str]] = {
    "🔥": "amazing",
    "💯": "perfect",
    "❤": "love",
    "💖": "love",
    "💕": "love",
    "👏": "great",
    "🙌": "great",
    "👍": "good",
    "👎": "bad",
    "🤮": "disgusting",
    "🤢": "disgusting",
    "😡": "angry",
    "😠": "angry",
    "🤬": "angry",
    "🤡": "ridiculous",
    "💩": "crap",
}


@dataclass(frozen=True)
class Sentiment:
    compound: float  # -1 .. 1
    label: Label


def label_of(compound: float) -> Label:
    if compound >= POSITIVE_AT:
        return "positive"
    if compound <= NEGATIVE_AT:
        return "negative"
    return "neutral"


def score(text: str | None) -> Sentiment:
    """The sentiment of one comment's text."""
    if text is None or not text.strip():
        return Sentiment(0.0, "neutral")
    compound = float(_analyzer().polarity_scores(text)["compound"])
    return Sentiment(compound, label_of(compound))


@functools.cache
def _analyzer() -> SentimentIntensityAnalyzer:
    # Imported and built on first use, not at import: the lexicon (7,500 words and 3,500 emoji
    # names read into dicts) costs memory a replica that never scores a comment (pulling off,
    # or no comment due yet) should not carry, and start-up time it should not spend. The
    # instance is never changed after this, so sharing it is safe.
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    analyzer.emojis.update(EMOJI_WORDS)
    return analyzer
