"""The share service's settings: its public address, the public routes' rate limits, PDF
render slots and who may read its operator routes."""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from pulse_runtime.settings import ServiceSettings


class ShareSettings(ServiceSettings):
    service: ClassVar[str] = "share"
    default_port: ClassVar[int] = 8002

    # Where clients reach this service: the base of the links handed out.
    public_url: str = "http://127.0.0.1:8002"
    # Token buckets (design/security.md: rate-limited per address and per link).
    rate_address_burst: int = 60
    rate_address_per_s: float = 1.0
    rate_link_burst: int = 120
    rate_link_per_s: float = 2.0
    # Password tries on one link: argon2 costs the server, and guesses must stay slow.
    rate_unlock_burst: int = 10
    rate_unlock_per_s: float = 0.1
    unlock_ttl_s: int = 3600
    # CDN suffixes the media proxy admits beyond the platform defaults (comma-separated).
    media_extra_suffixes: str = ""
    # PDF renders at once per process and how many more may wait; beyond: 503 + Retry-After.
    pdf_render_slots: int = Field(default=2, ge=1)
    pdf_render_queue: int = Field(default=4, ge=0)
    # Peers (addresses or networks) that may read /metrics, /openapi.json and /docs on this
    # public port; empty: nobody (pulse_runtime.operator_routes).
    metrics_networks: str = ""
