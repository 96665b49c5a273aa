"""catalog.benchmark_account.* events: the public accounts an organization benchmarks against
(docs/insights.md, Competitor benchmarks). Ingest keeps a copy and pulls them daily."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field

from .envelope import EventData, register

# The platforms whose profile and posts endpoints Pulse reads for benchmarks.
BenchmarkPlatform = Literal["tiktok", "instagram"]


@register
class BenchmarkAccountUpserted(EventData):
    event_type = "catalog.benchmark_account.upserted"
    id: UUID
    set_id: UUID
    platform: BenchmarkPlatform
    handle: str = Field(min_length=1, max_length=100, pattern=r"^[^\s@]+$")
    updated_at: datetime


@register
class BenchmarkAccountRemoved(EventData):
    event_type = "catalog.benchmark_account.removed"
    id: UUID
    set_id: UUID
    removed_at: datetime
