"""Alert rules and the debounce life cycle, at and just around every threshold."""

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from uuid import UUID

import pytest

from pulse_alerter.domain import (
    MILESTONES,
    RESOLVE_AFTER_RESOLUTION_WINDOW,
    Action,
    AlertState,
    Condition,
    campaign_timeline_pct,
    current_milestone,
    decide,
    evaluate_under_kpi,
    under_kpi_key,
)
from pulse_contracts.numbers import BookingNumbers, CampaignFigures, CampaignNumbers
from pulse_contracts.values import CampaignStatus, Severity

CAMPAIGN_ID = UUID("00000000-0000-0000-0000-00000000c001")
BOOKING_ID = UUID("00000000-0000-0000-0000-00000000b001")
OTHER_BOOKING_ID = UUID("00000000-0000-0000-0000-00000000b002")
INFLUENCER_ID = UUID("00000000-0000-0000-0000-00000000a001")
ALERT_ID = UUID("00000000-0000-0000-0000-00000000e001")

# 1 Jan to 10 Apr 2025 inclusive is exactly 100 days, so 1 % of the timeline is one day and
# 0.01 % is 864 s: every threshold below is an exact instant.
START = date(2025, 1, 1)
END = date(2025, 4, 10)
START_AT = datetime(2025, 1, 1, tzinfo=UTC)
HUNDREDTH = timedelta(seconds=864)


def at(timeline_pct: str) -> datetime:
    """The instant at which the campaign's timeline_pct is exactly `timeline_pct`."""
    hundredths = Decimal(timeline_pct) * 100
    assert hundredths == hundredths.to_integral_value()
    return START_AT + HUNDREDTH * int(hundredths)


def numbers(
    *,
    kpi_pct: float | None = None,
    booking_kpi_pct: float | None = None,
    other_booking_kpi_pct: float | None = None,
    status: CampaignStatus | None = "live",
    start_date: date | None = START,
    end_date: date | None = END,
    name: str | None = "Summer launch",
) -> CampaignNumbers:
    return CampaignNumbers(
        campaign=CampaignFigures(
            campaign_id=CAMPAIGN_ID,
            name=name,
            status=status,
            start_date=start_date,
            end_date=end_date,
            kpi_pct=kpi_pct,
        ),
        bookings=[
            BookingNumbers(
                booking_id=BOOKING_ID, influencer_id=INFLUENCER_ID, kpi_pct=booking_kpi_pct
            ),
            BookingNumbers(booking_id=OTHER_BOOKING_ID, kpi_pct=other_booking_kpi_pct),
        ],
        as_of=START_AT,
    )


def holding(conditions: list[Condition]) -> dict[str, Severity | None]:
    return {c.debounce_key: c.severity for c in conditions if c.holds}


def condition(
    *, holds: bool = True, severity: Severity | None = "warning", key: str = "k"
) -> Condition:
    return Condition(
        debounce_key=key,
        type="engagement_drop",
        scope="booking",
        campaign_id=CAMPAIGN_ID,
        booking_id=BOOKING_ID,
        post_id=None,
        holds=holds,
        severity=severity if holds else None,
        message="Booking is losing engagement",
    )


def open_alert(severity: Severity) -> AlertState:
    return AlertState(id=ALERT_ID, status="open", severity=severity, resolved_at=None)


def resolved_alert(severity: Severity, resolved_at: datetime) -> AlertState:
    return AlertState(id=ALERT_ID, status="resolved", severity=severity, resolved_at=resolved_at)


# --- timeline_pct ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (START_AT - timedelta(days=3), 0.0),
        (START_AT, 0.0),
        (at("49.99"), 49.99),
        (at("50"), 50.0),
        (at("81"), 81.0),
        # The end date is included: its own midnight is one day short of the end.
        (datetime(2025, 4, 10, tzinfo=UTC), 99.0),
        (datetime(2025, 4, 11, tzinfo=UTC), 100.0),
        (datetime(2025, 5, 1, tzinfo=UTC), 100.0),
        # Half up, exactly: 49.995 rounds to 50.00, one microsecond earlier it does not.
        (at("49.99") + HUNDREDTH / 2, 50.0),
        (at("49.99") + HUNDREDTH / 2 - timedelta(microseconds=1), 49.99),
        # Any time zone names the same instant.
        (datetime(2025, 2, 20, 2, tzinfo=timezone(timedelta(hours=2))), 50.0),
    ],
)
def test_timeline_pct_follows_kpis_md(now: datetime, expected: float) -> None:
    assert campaign_timeline_pct(numbers(), now) == expected


@pytest.mark.parametrize(
    ("start_date", "end_date"), [(None, END), (START, None), (None, None), (END, START)]
)
def test_timeline_pct_is_unknown_without_a_usable_date_range(
    start_date: date | None, end_date: date | None
) -> None:
    doc = numbers(start_date=start_date, end_date=end_date)
    assert campaign_timeline_pct(doc, at("50")) is None


def test_a_single_day_campaign_runs_until_the_next_midnight() -> None:
    doc = numbers(start_date=START, end_date=START)
    assert campaign_timeline_pct(doc, START_AT + timedelta(hours=12)) == 50.0


def test_timeline_pct_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        campaign_timeline_pct(numbers(), datetime(2025, 2, 20))


@pytest.mark.parametrize(
    ("timeline_pct", "expected"),
    [
        (None, None),
        (0.0, None),
        (49.99, None),
        (50.0, (50, "info")),
        (79.99, (50, "info")),
        (80.0, (80, "warning")),
        (94.99, (80, "warning")),
        (95.0, (95, "critical")),
        (100.0, (95, "critical")),
    ],
)
def test_current_milestone(
    timeline_pct: float | None, expected: tuple[int, Severity] | None
) -> None:
    assert current_milestone(timeline_pct) == expected


def test_milestones_and_window_are_the_documented_ones() -> None:
    assert MILESTONES == ((95, "critical"), (80, "warning"), (50, "info"))
    assert timedelta(hours=24) == RESOLVE_AFTER_RESOLUTION_WINDOW


# --- under_kpi ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("timeline", "kpi_pct", "expected"),
    [
        ("0", 0.0, None),
        ("49.99", 10.0, None),
        ("50", 49.99, (50, "info")),
        ("50", 50.0, None),
        ("50", None, None),
        ("79.99", 49.99, (50, "info")),
        ("79.99", 60.0, None),
        ("80", 79.99, (80, "warning")),
        ("80", 80.0, None),
        ("80", None, None),
        ("94.99", 79.99, (80, "warning")),
        ("94.99", 90.0, None),
        ("95", 94.99, (95, "critical")),
        ("95", 95.0, None),
        ("95", None, None),
        ("100", 94.99, (95, "critical")),
        ("100", 0.0, (95, "critical")),
        ("100", 120.0, None),
        ("100", None, None),
    ],
)
def test_under_kpi_holds_only_below_the_current_milestone(
    timeline: str, kpi_pct: float | None, expected: tuple[int, Severity] | None
) -> None:
    doc = numbers(kpi_pct=kpi_pct, booking_kpi_pct=kpi_pct, other_booking_kpi_pct=200.0)
    conditions = evaluate_under_kpi(doc, at(timeline))

    want: dict[str, Severity | None] = {}
    if expected is not None:
        milestone, severity = expected
        want = {
            under_kpi_key("campaign", CAMPAIGN_ID, milestone): severity,
            under_kpi_key("booking", BOOKING_ID, milestone): severity,
        }
    assert holding(conditions) == want
    assert all(c.severity is None for c in conditions if not c.holds)


def test_every_key_in_scope_is_returned_so_stale_alerts_can_resolve() -> None:
    conditions = evaluate_under_kpi(numbers(kpi_pct=10.0, booking_kpi_pct=10.0), at("100"))

    assert [c.debounce_key for c in conditions] == [
        f"under_kpi:campaign:{CAMPAIGN_ID}:95",
        f"under_kpi:campaign:{CAMPAIGN_ID}:80",
        f"under_kpi:campaign:{CAMPAIGN_ID}:50",
        f"under_kpi:booking:{BOOKING_ID}:95",
        f"under_kpi:booking:{BOOKING_ID}:80",
        f"under_kpi:booking:{BOOKING_ID}:50",
        f"under_kpi:booking:{OTHER_BOOKING_ID}:95",
        f"under_kpi:booking:{OTHER_BOOKING_ID}:80",
        f"under_kpi:booking:{OTHER_BOOKING_ID}:50",
    ]
    assert conditions[0].debounce_key == (
        "under_kpi:campaign:00000000-0000-0000-0000-00000000c001:95"
    )


def test_conditions_carry_their_scope_and_ids() -> None:
    conditions = evaluate_under_kpi(numbers(kpi_pct=10.0, booking_kpi_pct=10.0), at("100"))
    by_key = {c.debounce_key: c for c in conditions}

    campaign = by_key[under_kpi_key("campaign", CAMPAIGN_ID, 95)]
    assert (campaign.type, campaign.scope) == ("under_kpi", "campaign")
    assert (campaign.campaign_id, campaign.booking_id, campaign.post_id) == (
        CAMPAIGN_ID,
        None,
        None,
    )

    booking = by_key[under_kpi_key("booking", BOOKING_ID, 95)]
    assert (booking.type, booking.scope) == ("under_kpi", "booking")
    assert (booking.campaign_id, booking.booking_id, booking.post_id) == (
        CAMPAIGN_ID,
        BOOKING_ID,
        None,
    )


def test_campaign_and_bookings_are_judged_separately() -> None:
    doc = numbers(kpi_pct=85.0, booking_kpi_pct=40.0, other_booking_kpi_pct=79.0)
    assert holding(evaluate_under_kpi(doc, at("81"))) == {
        under_kpi_key("booking", BOOKING_ID, 80): "warning",
        under_kpi_key("booking", OTHER_BOOKING_ID, 80): "warning",
    }


@pytest.mark.parametrize("status", ["draft", "paused", "ended", None])
def test_only_live_campaigns_hold(status: CampaignStatus | None) -> None:
    doc = numbers(kpi_pct=0.0, booking_kpi_pct=0.0, other_booking_kpi_pct=0.0, status=status)
    conditions = evaluate_under_kpi(doc, at("100"))

    assert len(conditions) == 9
    assert holding(conditions) == {}


def test_without_dates_nothing_holds() -> None:
    doc = numbers(kpi_pct=0.0, booking_kpi_pct=0.0, start_date=None)
    assert holding(evaluate_under_kpi(doc, at("100"))) == {}


def test_the_rounded_timeline_reaches_the_milestone() -> None:
    # 49.995 % of the timeline rounds to 50.00, so the 50 milestone is reached.
    doc = numbers(kpi_pct=10.0)
    now = at("49.99") + HUNDREDTH / 2
    assert holding(evaluate_under_kpi(doc, now)) == {
        under_kpi_key("campaign", CAMPAIGN_ID, 50): "info"
    }
    assert holding(evaluate_under_kpi(doc, now - timedelta(microseconds=1))) == {}


def test_messages_speak_the_agencys_words() -> None:
    doc = numbers(kpi_pct=38.2, booking_kpi_pct=38.2, other_booking_kpi_pct=None)
    by_key = {c.debounce_key: c for c in evaluate_under_kpi(doc, at("81"))}

    assert by_key[under_kpi_key("booking", BOOKING_ID, 80)].message == (
        f"Booking for influencer {INFLUENCER_ID} is at 38.2% of its KPI"
        " with 81.0% of the timeline gone"
    )
    assert by_key[under_kpi_key("campaign", CAMPAIGN_ID, 80)].message == (
        'Campaign "Summer launch" is at 38.2% of its KPI with 81.0% of the timeline gone'
    )
    assert by_key[under_kpi_key("booking", OTHER_BOOKING_ID, 80)].message == (
        f"Booking {OTHER_BOOKING_ID} is at n/a of its KPI with 81.0% of the timeline gone"
    )


def test_messages_keep_both_decimals_near_a_milestone() -> None:
    doc = numbers(kpi_pct=49.99, name=None)
    by_key = {c.debounce_key: c for c in evaluate_under_kpi(doc, at("50"))}
    assert by_key[under_kpi_key("campaign", CAMPAIGN_ID, 50)].message == (
        f"Campaign {CAMPAIGN_ID} is at 49.99% of its KPI with 50.0% of the timeline gone"
    )


def test_passing_a_milestone_resolves_the_earlier_alert_and_raises_the_next() -> None:
    doc = numbers(kpi_pct=30.0)
    key_50 = under_kpi_key("campaign", CAMPAIGN_ID, 50)
    key_80 = under_kpi_key("campaign", CAMPAIGN_ID, 80)

    now = at("80")
    by_key = {c.debounce_key: c for c in evaluate_under_kpi(doc, now)}

    assert decide(by_key[key_50], open_alert("info"), now) is Action.RESOLVE
    assert decide(by_key[key_80], None, now) is Action.RAISE


# --- decide ---------------------------------------------------------------------------------

NOW = datetime(2025, 3, 1, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("holds", "severity", "current", "expected"),
    [
        # Nothing on record.
        (False, None, None, Action.NONE),
        (True, "info", None, Action.RAISE),
        (True, "critical", None, Action.RAISE),
        # Open: equal or lower severity touches, higher escalates, gone resolves.
        (True, "warning", open_alert("warning"), Action.TOUCH),
        (True, "info", open_alert("warning"), Action.TOUCH),
        (True, "info", open_alert("critical"), Action.TOUCH),
        (True, "warning", open_alert("info"), Action.ESCALATE),
        (True, "critical", open_alert("warning"), Action.ESCALATE),
        (True, "critical", open_alert("info"), Action.ESCALATE),
        (False, None, open_alert("info"), Action.RESOLVE),
        (False, None, open_alert("critical"), Action.RESOLVE),
        # Resolved: quiet for 24 h at the same or lower severity.
        (
            True,
            "warning",
            resolved_alert("warning", NOW - timedelta(hours=23, minutes=59, seconds=59)),
            Action.NONE,
        ),
        (True, "warning", resolved_alert("warning", NOW - timedelta(hours=24)), Action.RAISE),
        (True, "warning", resolved_alert("warning", NOW - timedelta(days=3)), Action.RAISE),
        (True, "info", resolved_alert("critical", NOW - timedelta(minutes=1)), Action.NONE),
        (True, "info", resolved_alert("critical", NOW - timedelta(hours=24)), Action.RAISE),
        (True, "warning", resolved_alert("warning", NOW), Action.NONE),
        # Resolved: a higher severity raises at once.
        (True, "warning", resolved_alert("info", NOW - timedelta(seconds=1)), Action.RAISE),
        (True, "critical", resolved_alert("warning", NOW), Action.RAISE),
        # Resolved and no longer holding: nothing to do, however recent.
        (False, None, resolved_alert("warning", NOW - timedelta(minutes=1)), Action.NONE),
        (False, None, resolved_alert("warning", NOW - timedelta(days=2)), Action.NONE),
    ],
)
def test_decide(
    holds: bool, severity: Severity | None, current: AlertState | None, expected: Action
) -> None:
    assert decide(condition(holds=holds, severity=severity), current, NOW) is expected


def test_escalation_info_to_warning_to_critical() -> None:
    state: AlertState | None = None
    seen: list[Action] = []
    for severity in ("info", "info", "warning", "warning", "critical", "warning"):
        action = decide(condition(severity=severity), state, NOW)
        seen.append(action)
        if action in (Action.RAISE, Action.ESCALATE):
            state = open_alert(severity)

    assert seen == [
        Action.RAISE,
        Action.TOUCH,
        Action.ESCALATE,
        Action.TOUCH,
        Action.ESCALATE,
        Action.TOUCH,
    ]
    assert state == open_alert("critical")


def test_a_condition_that_holds_needs_a_severity() -> None:
    with pytest.raises(ValueError, match="severity"):
        Condition(
            debounce_key="k",
            type="under_kpi",
            scope="campaign",
            campaign_id=CAMPAIGN_ID,
            booking_id=None,
            post_id=None,
            holds=True,
            severity=None,
            message="",
        )
    with pytest.raises(ValueError, match="severity"):
        Condition(
            debounce_key="k",
            type="under_kpi",
            scope="campaign",
            campaign_id=CAMPAIGN_ID,
            booking_id=None,
            post_id=None,
            holds=False,
            severity="info",
            message="",
        )


@pytest.mark.parametrize(("status", "resolved_at"), [("resolved", None), ("open", NOW)])
def test_an_alert_is_resolved_exactly_when_it_has_resolved_at(
    status: str, resolved_at: datetime | None
) -> None:
    with pytest.raises(ValueError, match="resolved_at"):
        AlertState(id=ALERT_ID, status=status, severity="info", resolved_at=resolved_at)  # type: ignore[arg-type]
