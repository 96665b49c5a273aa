"""How often a tracked post is refreshed (design/events.md "Refresh policy"): one rule, read by
ingest's scheduler to pull and by the alerter to judge when a post's data has gone stale."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Final

HOUR: Final = timedelta(hours=1)
DAY: Final = timedelta(days=1)
# (age below which, interval): the first row whose bound the age is under wins.
INTERVALS: Final[tuple[tuple[timedelta, timedelta], ...]] = (
    (DAY, HOUR),
    (7 * DAY, 3 * HOUR),
    (30 * DAY, 12 * HOUR),
)
OLDEST_INTERVAL: Final = 24 * HOUR
# Pulling goes on this long after the campaign's last day, so late views still count.
AFTER_END: Final = timedelta(days=7)


def refresh_interval(age: timedelta) -> timedelta:
    """age < 24 h → 1 h; < 7 days → 3 h; < 30 days → 12 h; older → 24 h."""
    for bound, interval in INTERVALS:
        if age < bound:
            return interval
    return OLDEST_INTERVAL


def post_age(now: datetime, *, posted_at: datetime | None, registered_at: datetime) -> timedelta:
    """now − posted_at, or − registered_at while the post's own time is not known yet."""
    return now - (posted_at or registered_at)


def pull_until(end_date: date) -> datetime:
    """The first moment a campaign's posts are no longer pulled (end_date + 8 days 00:00 UTC)."""
    return datetime.combine(end_date, time(0), UTC) + DAY + AFTER_END
