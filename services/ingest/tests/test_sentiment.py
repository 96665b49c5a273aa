"""The comment scorer: VADER's compound score, its documented thresholds, emoji and empty text."""

from __future__ import annotations

import pytest

from pulse_ingest.sentiment import Sentiment, label_of, score


@pytest.mark.parametrize(
    "text",
    [
        "I love this so much, you look amazing!!",
        "Best collab ever, thank you for sharing ❤️",
        "Great video, really helpful",
    ],
)
def test_clear_praise_is_positive(text: str) -> None:
    result = score(text)
    assert result.label == "positive"
    assert result.compound >= 0.05


@pytest.mark.parametrize(
    "text",
    [
        "This is a scam, terrible product, never buying again",
        "Awful. Worst ad I have seen all week",
        "Hate this, so fake and disappointing",
    ],
)
def test_clear_complaints_are_negative(text: str) -> None:
    result = score(text)
    assert result.label == "negative"
    assert result.compound <= -0.05


@pytest.mark.parametrize(
    "text", ["Where did you buy the jacket?", "First!", "What size is she wearing", "12:04"]
)
def test_questions_and_plain_statements_are_neutral(text: str) -> None:
    assert score(text).label == "neutral"


@pytest.mark.parametrize("text", ["", "   ", "\n\t", None])
def test_empty_text_is_neutral_zero(text: str | None) -> None:
    assert score(text) == Sentiment(0.0, "neutral")


def test_emoji_carry_their_social_media_sense() -> None:
    # Plain VADER reads 🔥 as "fire" (negative) and 😡/👎 as nothing at all.
    assert score("🔥🔥🔥").label == "positive"
    assert score("this is fire 🔥").compound > score("this is fire").compound
    assert score("😍").label == "positive"
    assert score("😡😡").label == "negative"
    assert score("👎").label == "negative"
    assert score("🤮 gross").label == "negative"
    assert score("💯").label == "positive"


def test_thresholds_are_vaders_documented_ones() -> None:
    assert label_of(0.05) == "positive"
    assert label_of(0.0499) == "neutral"
    assert label_of(-0.0499) == "neutral"
    assert label_of(-0.05) == "negative"


def test_scores_are_deterministic_and_bounded() -> None:
    text = "LOVE IT!!! but the shipping was slow :("
    first, second = score(text), score(text)
    assert first == second
    assert -1.0 <= first.compound <= 1.0
