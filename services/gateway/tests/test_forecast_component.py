"""The forecast box the campaign and influencer screens share (components/forecast.html): what
it tells an agency about the posts the projection still counts on."""

from __future__ import annotations

from typing import Any

from pulse_gateway.pages.common import templates


def box(**forecast: Any) -> str:
    macro = templates.get_template("components/forecast.html").module.summary
    figures = {
        "status": "projected",
        "views": 900_000,
        "views_low": 700_000,
        "views_high": 1_100_000,
        "engagement": 54_000,
        "engagement_low": 42_000,
        "engagement_high": 66_000,
        "posts": 4,
        "posts_low": 4,
        "posts_high": 4,
    }
    return str(macro({**figures, **forecast}, committed_views=1_000_000, committed_posts=4))


def test_the_box_says_how_many_committed_posts_the_projection_still_counts_on() -> None:
    two = box(posts=4, posts_low=2)
    assert "Includes 2 committed posts not live yet; the low end leaves them out." in two
    one = box(posts=4, posts_low=3)
    assert "Includes 1 committed post not live yet; the low end leaves it out." in one


def test_no_such_line_when_every_committed_post_is_live_or_the_figures_are_final() -> None:
    assert 'data-forecast="to-come"' not in box()
    final = box(status="final", posts=3, posts_low=3, posts_high=3)
    assert 'data-forecast="to-come"' not in final
    assert "Delivered by the end date" in final
    assert 'data-forecast="to-come"' not in box(status="not_enough_data", posts=None)
