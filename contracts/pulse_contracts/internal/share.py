"""The share service's internal routes: a campaign's client links (created, listed, revoked)
and the scheduled client report's fresh link with the document it shows."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field, field_validator

from pulse_contracts.reports import ReportDocument

from .base import Answer, Request

MIN_PASSWORD_LENGTH = 8
LinkState = Literal["active", "expired", "revoked"]


def encodable(text: str) -> str:
    """Text that UTF-8 can carry (JSON admits lone surrogates; hashing them would crash)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("must be valid Unicode text") from exc
    return text


class LinkIn(Request):
    campaign_id: UUID
    created_by: UUID | None = None
    expires_at: datetime | None = None
    password: str | None = Field(default=None, min_length=MIN_PASSWORD_LENGTH, max_length=200)
    show_forecast: bool = False  # the delivery forecast on the client view (never money)
    show_emv: bool = False  # earned media value on the client view (an estimate; no fee/ROI)

    @field_validator("password")
    @classmethod
    def _encodable(cls, value: str | None) -> str | None:
        return encodable(value) if value is not None else None


class LinkOut(Answer):
    """A link as staff see it: never its token (share keeps only the token's SHA-256)."""

    id: UUID
    campaign_id: UUID
    created_by: UUID | None
    created_at: datetime
    expires_at: datetime | None
    has_password: bool
    revoked_at: datetime | None
    view_count: int
    last_viewed_at: datetime | None
    show_forecast: bool = False
    show_emv: bool = False
    state: LinkState


class CreatedLink(LinkOut):
    token: str = Field(description="shown once: only its SHA-256 is stored")
    path: str  # /share/{token}, below the share service's public URL
    url: str


class LinkPage(Answer):
    items: list[LinkOut]
    next_cursor: str | None = None


class ScheduledReportIn(Request):
    link_days: int = Field(default=30, ge=1, le=365)


class ScheduledReport(Answer):
    """A link for this period's mail and the client view's report document (no money in it)."""

    url: str
    link_id: UUID
    title: str
    document: ReportDocument
