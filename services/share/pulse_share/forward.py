"""A stored projection seen at a later moment: the timeline and the daily series run on to now,
as the staff view's reads do, so a link opened days after the last numbers is still true."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from pydantic_core import to_json

from pulse_contracts.numbers import (
    ClientKpis,
    DailyPoint,
    series_tail,
    timeline_pct,
)

from .domain import SharePayload

# --- bringing a stored projection forward to now ----------------------------------------------


def as_of_now(payload: SharePayload, numbers_as_of: datetime | None, now: datetime) -> SharePayload:
    """The stored projection seen at `now`: the timeline moves on and the daily series gains the
    days without new samples, by the same rule as the staff dashboard (pulse_contracts.numbers
    extend_to), so both show the same numbers to the unit."""
    return at_moment(forward_to_day(payload, numbers_as_of, now), now)


def forward_to_day(
    payload: SharePayload, numbers_as_of: datetime | None, now: datetime
) -> SharePayload:
    """The part of `as_of_now` that changes only with `now`'s UTC day: the daily series' tail.
    A replica keeps its result for the day (handlers.Projections)."""
    start, end = payload.campaign.start_date, payload.campaign.end_date
    if start is None or end is None or numbers_as_of is None or now <= numbers_as_of:
        return payload
    daily = _extend_daily(list(payload.daily), payload.kpis, start, end, numbers_as_of, now)
    return payload.model_copy(update={"daily": daily})


def at_moment(payload: SharePayload, now: datetime) -> SharePayload:
    """The part of `as_of_now` that moves within a day: the timeline, and when it was read."""
    return payload.model_copy(update={"kpis": _kpis_at(payload, now), "generated_at": now})


def _kpis_at(payload: SharePayload, now: datetime) -> ClientKpis:
    start, end = payload.campaign.start_date, payload.campaign.end_date
    if start is None or end is None:
        return payload.kpis
    return payload.kpis.model_copy(update={"timeline_pct": timeline_pct(start, end, now)})


@dataclass(frozen=True)
class JsonAtMoment:
    """`at_moment(payload, now).model_dump_json()`, the JSON route's body, without copying and
    dumping the whole payload on every view: the payload's JSON is cut once where the moment
    shows (the kpis, whose timeline moves, and generated_at) and only those two are dumped per
    view, by the same serializer. Same bytes (tests/test_domain.py pins it)."""

    payload: SharePayload
    head: str
    middle: str
    tail: str

    @classmethod
    def of(cls, payload: SharePayload) -> JsonAtMoment | None:
        """None when the cut is not unambiguous (then the caller dumps the whole payload)."""
        whole = payload.model_dump_json()
        kpis = _KPIS + payload.kpis.model_dump_json()
        generated = _GENERATED_AT + to_json(payload.generated_at).decode()
        if whole.count(kpis) != 1 or whole.count(generated) != 1:
            return None
        head, rest = whole.split(kpis)
        if generated not in rest:
            return None
        middle, tail = rest.split(generated)
        return cls(payload=payload, head=head, middle=middle, tail=tail)

    def at(self, now: datetime) -> str:
        kpis = _kpis_at(self.payload, now).model_dump_json()
        generated = to_json(now).decode()
        return f"{self.head}{_KPIS}{kpis}{self.middle}{_GENERATED_AT}{generated}{self.tail}"


_KPIS = '"kpis":'
_GENERATED_AT = '"generated_at":'


def _extend_daily(
    daily: list[DailyPoint],
    kpis: ClientKpis,
    start: date,
    end: date,
    as_of: datetime,
    now: datetime,
) -> list[DailyPoint]:
    # The same tail the aggregator's reads add, so the client sees what the staff see.
    tail = series_tail(
        daily,
        start_date=start,
        end_date=end,
        as_of=as_of,
        now=now,
        views=kpis.actual_views,
        engagement=kpis.actual_engagement,
        posts=kpis.actual_posts,
    )
    return daily + tail
