"""Value types shared by every service: platforms, statuses, severities."""

from typing import Annotated, Literal

from pydantic import Field, StringConstraints

Platform = Literal["tiktok", "instagram", "youtube", "facebook", "other"]
PULLED_PLATFORMS: tuple[Platform, ...] = ("tiktok", "instagram", "youtube", "facebook")

CampaignStatus = Literal["draft", "live", "paused", "ended"]
Severity = Literal["info", "warning", "critical"]
SEVERITY_RANK: dict[str, int] = {"info": 1, "warning": 2, "critical": 3}
AlertType = Literal[
    "under_kpi", "engagement_drop", "deadline", "stale_data", "viral", "sentiment", "forecast_miss"
]
AlertScope = Literal["campaign", "booking", "post"]
SampleSource = Literal["http", "amqp", "provider", "import"]
TokenScope = Literal["ingest", "read"]

# Counters are cumulative public numbers; None means the platform does not expose it.
Counter = Annotated[int, Field(ge=0, le=10**15)] | None
ShortText = Annotated[str, StringConstraints(max_length=200)]
LongText = Annotated[str, StringConstraints(max_length=5000)]
Url = Annotated[str, StringConstraints(max_length=2048)]
CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
