"""`make backtest` (docs/forecast.md): its table, and the forecast's accuracy on the set of record.

Accuracy is a property of the method, not a timing, so it is pinned here: a change to the
forecast that makes the synthetic set's 50 % checkpoint worse than docs/forecast.md reports
fails this test before it reaches an agency's page.
"""

from __future__ import annotations

import re

from bench.backtest import engagement_split, report, score, summarise
from bench.backtest_sets import synthetic_campaigns


def test_the_report_has_every_checkpoint_for_both_sets_and_the_other_seeds() -> None:
    text = report(seed=14, count=6, others=1)
    assert "### Synthetic set (seed 14, 6 campaigns)" in text
    assert "### Demo agency" in text
    rows = re.findall(
        r"^\| (25|50|75) % \| (views|engagement) \| (\d+) \| ([\d.]+) % \|", text, re.M
    )
    assert len(rows) == 12  # 3 checkpoints × 2 metrics × 2 sets
    assert re.search(r"^\| 15 \| engagement \| [\d.]+ % \| [\d.]+ % \|", text, re.M)
    assert "### At 50 % of the timeline with commitments that know more (seed 14)" in text
    assert re.search(r"^\| engagement \|( [\d.]+ % \|){4} \d+ % \|$", text, re.M)
    assert "### Where the engagement error at 50 % comes from (seed 14)" in text
    assert len(re.findall(r"^\| (the forecast|each booking's).* \| [\d.]+ % \|$", text, re.M)) == 3


def test_the_engagement_forecast_is_the_views_forecast_at_the_rate_known_by_then() -> None:
    # docs/forecast.md's reading of the engagement gap rests on this: projecting each booking's
    # views at the engagement per view known by the halfway day gives the forecast's own error,
    # so engagement's distance from views is not in how engagement is projected.
    rows = re.findall(r"^\| (?:the forecast|each booking's).* \| ([\d.]+) % \|$",
                      engagement_split(14, 80), re.M)  # fmt: skip
    forecast, known, _ = (float(v) for v in rows)
    assert forecast == known


def test_true_commitments_change_only_the_commitments() -> None:
    drawn = synthetic_campaigns(14, 12)
    true = synthetic_campaigns(14, 12, exact_commitments=True)
    assert [r.name for r in drawn] == [r.name for r in true]
    changed = 0
    for a, b in zip(drawn, true, strict=True):
        assert (a.start, a.end) == (b.start, b.end)
        for x, y in zip(a.bookings, b.bookings, strict=True):
            assert x.posts == y.posts  # the same samples, to the view
            assert x.committed_posts == y.committed_posts
            changed += x.committed_views != y.committed_views
    assert changed > 0


def test_commitments_to_only_the_posts_made_change_only_the_commitments() -> None:
    drawn = synthetic_campaigns(14, 12)
    made = synthetic_campaigns(14, 12, only_posts_made=True)
    lowered = 0
    for a, b in zip(drawn, made, strict=True):
        for x, y in zip(a.bookings, b.bookings, strict=True):
            assert x.posts == y.posts
            assert y.committed_posts == len(y.posts)
            if x.committed_posts != y.committed_posts:
                lowered += 1
                # The same views and engagement per post as committed, to a whole unit.
                for a_total, b_total in (
                    (x.committed_views, y.committed_views),
                    (x.committed_engagement, y.committed_engagement),
                ):
                    per_post = (a_total or 0) / (x.committed_posts or 1)
                    assert abs((b_total or 0) - per_post * len(y.posts)) < 1
    assert lowered > 0  # the set has posts never made, or this compares nothing


def test_at_half_the_timeline_the_synthetic_set_lands_where_docs_forecast_md_says() -> None:
    half = {
        r.metric: r for r in summarise(score(synthetic_campaigns(14, 80))) if r.checkpoint == 50
    }
    assert half["views"].campaigns == half["engagement"].campaigns == 80
    # The targets: MAPE ≤ 15 %, finals inside the band ≥ 80 %.
    assert half["views"].mape <= 15
    assert half["views"].inside >= 80
    assert half["engagement"].inside >= 80
    # Engagement is 15.8 % (docs/forecast.md says why the 15 % target is not met yet); this
    # keeps it from drifting further.
    assert half["engagement"].mape <= 16
