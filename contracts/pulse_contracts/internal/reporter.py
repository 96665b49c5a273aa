"""The reporter's internal routes: a campaign's client-report schedule and its delivery log.
(A finished job's file is bytes, not JSON: it has no model.)"""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from .base import Answer, Request

Cadence = Literal["weekly", "monthly"]


class ScheduleIn(Request):
    """The caller has checked the campaign and the addresses; `first_due_at` None: the next
    Monday (weekly) or 1st (monthly) at 08:00 UTC."""

    cadence: Cadence
    recipients: list[str] = Field(min_length=1, max_length=20)
    first_due_at: datetime | None = None


class Schedule(Answer):
    id: UUID
    org_id: UUID
    campaign_id: UUID
    cadence: Cadence
    recipients: list[str]
    next_due_at: datetime
    created_at: datetime
    updated_at: datetime


class ScheduledDelivery(Answer):
    """One period's mail: to whom, with which link, and how it went."""

    id: UUID
    period: str
    recipients: list[str]
    status: str
    attempts: int
    share_link_id: UUID | None
    error: str | None
    created_at: datetime
    sent_at: datetime | None


class ScheduleAndLog(Answer):
    schedule: Schedule | None
    deliveries: list[ScheduledDelivery]


class ScheduleDeleted(Answer):
    deleted: bool
